// Trades out of the matching engines' event batches: the fills the settlement service has to put on chain.
import { decodeEventBatch, decodeEventBatchEvents } from '@parallax/contracts';
import { Side, type TradeEvent } from '@parallax/order-book';

/** One trade of the market-events topic, identified by (marketId, seq). Prices in ticks, sizes in lots. */
export interface SettlementTrade {
  readonly marketId: number;
  readonly seq: number;
  readonly makerOrderId: number;
  /** The accounts the engine matched: the signed orders must be theirs (checked before settling). */
  readonly makerAccountId: number;
  readonly takerOrderId: number;
  readonly takerAccountId: number;
  readonly takerSide: 'BUY' | 'SELL';
  readonly priceTicks: number;
  readonly sizeLots: number;
  /** Engine logical time of the command that traded. */
  readonly ts: number;
}

/** One market-events message as settlement reads it: its market, its sequence range and its trades. */
export interface MarketEventsRead {
  readonly marketId: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly trades: SettlementTrade[];
}

/** Reads a market-events message. Throws ContractError for a message that is not a valid EventBatch. */
export function readMarketEvents(bytes: Uint8Array): MarketEventsRead {
  const batch = decodeEventBatch(bytes);
  const trades: SettlementTrade[] = [];
  for (const e of decodeEventBatchEvents(batch)) {
    if (e.type === 'trade') trades.push(tradeOf(batch.marketId, e));
  }
  return { marketId: batch.marketId, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, trades };
}

/** The trades of one market-events message. Throws ContractError for a message that is not a valid EventBatch. */
export function tradesOfEventBatch(bytes: Uint8Array): SettlementTrade[] {
  return readMarketEvents(bytes).trades;
}

/** A book's trade event as a settlement trade of its market. */
export function tradeOf(marketId: number, e: TradeEvent): SettlementTrade {
  return {
    marketId,
    seq: e.seq,
    makerOrderId: e.makerOrderId,
    makerAccountId: e.makerAccountId,
    takerOrderId: e.takerOrderId,
    takerAccountId: e.takerAccountId,
    takerSide: e.takerSide === Side.Buy ? 'BUY' : 'SELL',
    priceTicks: e.price,
    sizeLots: e.size,
    ts: e.ts,
  };
}
