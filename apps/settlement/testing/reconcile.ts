// The test's own model of what settlement must do to balances, written from the contract's rules
// (libs/chain/README.md "Amounts, prices and fees"), independent of the service's mapping code:
//   buyer  +base, -(quote + buyFee) quote;  seller -base, +(quote - sellFee) quote;  fee recipient +both fees
// with quote = base * price / 1e18, fee = quote * rate / 1e6 (rounded down), rate = min(configured, signed max).
import type { SettlementMarket } from '@parallax/chain';
import type { SignedOrderRecord } from '@parallax/contracts';
import type { Address } from 'viem';
import type { SettlementTrade } from '../domain/trades.js';
import { flowOrderKey } from './signed-flow.js';

const PRICE_SCALE = 10n ** 18n;
const FEE_SCALE = 1_000_000n;

export const balanceKey = (owner: string, token: string): string => `${owner.toLowerCase()}/${token.toLowerCase()}`;

export interface ExpectedSettlement {
  /** (owner, token) -> net change of the internal balance. */
  readonly deltas: Map<string, bigint>;
  readonly fills: number;
}

export function expectedDeltas(
  trades: readonly SettlementTrade[],
  orders: ReadonlyMap<string, SignedOrderRecord>,
  markets: ReadonlyMap<number, SettlementMarket>,
  fees: { readonly makerFeeRate: number; readonly takerFeeRate: number },
  feeRecipient: Address,
): ExpectedSettlement {
  const deltas = new Map<string, bigint>();
  const add = (owner: string, token: string, v: bigint): void => {
    const k = balanceKey(owner, token);
    deltas.set(k, (deltas.get(k) ?? 0n) + v);
  };
  for (const t of trades) {
    const market = markets.get(t.marketId);
    const maker = orders.get(flowOrderKey(t.marketId, t.makerOrderId));
    const taker = orders.get(flowOrderKey(t.marketId, t.takerOrderId));
    if (market === undefined || maker === undefined || taker === undefined) throw new Error(`trade ${t.marketId}/${t.seq}: unknown market or order`);
    const takerBuys = t.takerSide === 'BUY';
    const buy = takerBuys ? taker : maker;
    const sell = takerBuys ? maker : taker;
    const base = BigInt(t.sizeLots) * market.lotSize;
    const quote = (base * BigInt(t.priceTicks) * market.tickSize) / PRICE_SCALE;
    const rate = (isTaker: boolean, o: SignedOrderRecord): bigint =>
      BigInt(Math.min(isTaker ? fees.takerFeeRate : fees.makerFeeRate, o.maxFeeRate));
    const buyFee = (quote * rate(takerBuys, buy)) / FEE_SCALE;
    const sellFee = (quote * rate(!takerBuys, sell)) / FEE_SCALE;
    add(buy.trader, market.baseToken, base);
    add(buy.trader, market.quoteToken, -(quote + buyFee));
    add(sell.trader, market.baseToken, -base);
    add(sell.trader, market.quoteToken, quote - sellFee);
    if (buyFee + sellFee > 0n) add(feeRecipient, market.quoteToken, buyFee + sellFee);
  }
  return { deltas, fills: trades.length };
}
