// Markets, accounts and signed-order requests for tests and benchmarks. Signatures are shaped, not real:
// the engine trusts the signer the gateway recovered, so nothing here needs a key.
import { OrderType, StpMode, TimeInForce } from '@parallax/order-book';
import type { Address, PlaceRequest, RiskMarket, SignedOrder } from '../engine/types.js';

export const QUOTE: Address = '0x00000000000000000000000000000000000000c0';

export function tokenAddress(n: number): Address {
  return `0x${(0xb0000 + n).toString(16).padStart(40, '0')}`;
}

/** An account address whose last bytes are `n` (so its shard is n % shards). */
export function accountAddress(n: number): Address {
  return `0x${'a'.repeat(24)}${n.toString(16).padStart(16, '0')}`;
}

/**
 * Market `id`: base token tokenAddress(id) with 18 decimals in lots of 0.001 (1e15), quote QUOTE with 6
 * decimals in ticks of 0.01 (1e4 per 1e18): one lot at one tick costs 10 quote base units.
 */
export function testMarket(id: number, fees: { maker?: number; taker?: number } = {}): RiskMarket {
  return {
    marketId: id,
    baseToken: tokenAddress(id),
    quoteToken: QUOTE,
    lotSize: 10n ** 15n,
    tickSize: 10n ** 4n,
    makerFeeRate: fees.maker ?? 0,
    takerFeeRate: fees.taker ?? 0,
  };
}

export const SIGNATURE: `0x${string}` = `0x${'1b'.repeat(65)}`;

export interface PlaceParams {
  readonly ts?: number;
  readonly isBuy: boolean;
  readonly priceTicks: number;
  readonly lots: number;
  readonly orderType?: OrderType;
  readonly tif?: TimeInForce;
  readonly expiresAt?: number;
  readonly postOnly?: boolean;
  readonly stp?: StpMode;
  readonly maxFeeRate?: number;
  /** Unix seconds; default far in the future. */
  readonly expiry?: bigint;
  readonly nonce: bigint;
  readonly signer?: Address;
  /** Overrides of the signed order (hostile tests). */
  readonly order?: Partial<SignedOrder>;
}

export function placeRequest(account: Address, m: RiskMarket, p: PlaceParams): PlaceRequest {
  const order: SignedOrder = {
    trader: account,
    baseToken: m.baseToken,
    quoteToken: m.quoteToken,
    isBuy: p.isBuy,
    price: BigInt(p.priceTicks) * m.tickSize,
    size: BigInt(p.lots) * m.lotSize,
    maxFeeRate: p.maxFeeRate ?? 100_000,
    expiry: p.expiry ?? 4_000_000_000n,
    nonce: p.nonce,
    signature: SIGNATURE,
    ...p.order,
  };
  return {
    type: 'place',
    ts: p.ts ?? 1,
    account,
    signer: p.signer ?? account,
    marketId: m.marketId,
    orderType: p.orderType ?? OrderType.Limit,
    tif: p.tif ?? TimeInForce.GTC,
    expiresAt: p.expiresAt ?? 0,
    postOnly: p.postOnly ?? false,
    stp: p.stp ?? StpMode.None,
    order,
  };
}
