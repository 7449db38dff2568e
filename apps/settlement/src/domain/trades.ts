// Trades out of the matching engines' event batches: the fills the settlement service has to put on chain.
import { decodeEventBatch, decodeEventBatchEvents } from '@parallax/contracts';
import { Side, type TradeEvent } from '@parallax/order-book';

/** One trade of the market-events topic, identified by (marketId, seq). Prices in ticks, sizes in lots. */
export interface SettlementTrade {
  readonly marketId: number;
  readonly seq: number;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly takerSide: 'BUY' | 'SELL';
  readonly priceTicks: number;
  readonly sizeLots: number;
  /** Engine logical time of the command that traded. */
  readonly ts: number;
}

/** The trades of one market-events message. Throws ContractError for a message that is not a valid EventBatch. */
export function tradesOfEventBatch(bytes: Uint8Array): SettlementTrade[] {
  const batch = decodeEventBatch(bytes);
  const out: SettlementTrade[] = [];
  for (const e of decodeEventBatchEvents(batch)) {
    if (e.type === 'trade') out.push(tradeOf(batch.marketId, e));
  }
  return out;
}

/** A book's trade event as a settlement trade of its market. */
export function tradeOf(marketId: number, e: TradeEvent): SettlementTrade {
  return {
    marketId,
    seq: e.seq,
    makerOrderId: e.makerOrderId,
    takerOrderId: e.takerOrderId,
    takerSide: e.takerSide === Side.Buy ? 'BUY' : 'SELL',
    priceTicks: e.price,
    sizeLots: e.size,
    ts: e.ts,
  };
}
