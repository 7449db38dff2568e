// Mapping between the topic contracts, the stored rows and the chain's types. One place, so a field cannot
// be converted two ways.
import type { SettlementMarket, SignedOrder } from '@parallax/chain';
import type { SignedOrderRecord } from '@parallax/contracts';
import type { FillKey, SettlementFillRecord, SettlementOrderRecord } from '@parallax/persistence';
import { getAddress, type Address } from 'viem';
import type { SettlementTrade } from './trades.js';

export const orderKey = (marketId: number, orderId: bigint): string => `${marketId}/${orderId}`;

export const fillKey = (f: FillKey): FillKey => ({ marketId: f.marketId, seq: f.seq });

export function toFillRecord(t: SettlementTrade): SettlementFillRecord {
  return {
    marketId: t.marketId,
    seq: BigInt(t.seq),
    makerOrderId: BigInt(t.makerOrderId),
    takerOrderId: BigInt(t.takerOrderId),
    makerAccountId: BigInt(t.makerAccountId),
    takerAccountId: BigInt(t.takerAccountId),
    takerSide: t.takerSide,
    priceTicks: BigInt(t.priceTicks),
    sizeLots: BigInt(t.sizeLots),
    ts: BigInt(t.ts),
  };
}

export function toOrderRecord(marketId: number, o: SignedOrderRecord): SettlementOrderRecord {
  return {
    marketId,
    orderId: BigInt(o.orderId),
    accountId: BigInt(o.accountId),
    trader: o.trader,
    isBuy: o.isBuy,
    price: o.price,
    size: o.size,
    nonce: o.nonce,
    maxFeeRate: o.maxFeeRate,
    expiry: o.expiry,
    signature: o.signature,
  };
}

/** The signed-orders topic record of an order the trader signed (what the ingest publishes). */
export function toSignedOrderRecord(orderId: number, accountId: number, s: SignedOrder): SignedOrderRecord {
  return {
    orderId,
    accountId,
    trader: s.trader.toLowerCase() as Address,
    isBuy: s.isBuy,
    price: s.price,
    size: s.size,
    maxFeeRate: s.maxFeeRate,
    expiry: s.expiry,
    nonce: s.nonce,
    signature: s.signature,
  };
}

/** The order as the trader signed it: the market supplies the token pair the signature also covers. */
export function signedOrderOf(market: SettlementMarket, o: SettlementOrderRecord): SignedOrder {
  return {
    trader: getAddress(o.trader),
    baseToken: market.baseToken,
    quoteToken: market.quoteToken,
    isBuy: o.isBuy,
    price: o.price,
    size: o.size,
    maxFeeRate: o.maxFeeRate,
    expiry: o.expiry,
    nonce: o.nonce,
    signature: o.signature,
  };
}
