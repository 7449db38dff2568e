import {
  hashTypedData,
  type Address,
  type Hex,
  type LocalAccount,
  type TypedDataDefinition,
} from 'viem';
import { DOMAIN_NAME, DOMAIN_VERSION, PRICE_SCALE } from './constants.js';
import { ChainError } from './errors.js';

/**
 * A limit order as traders sign it (EIP-712 primary type "Order"). Amounts are token base units;
 * `price` is quote base units per PRICE_SCALE (1e18) base units; `maxFeeRate` is in millionths of the
 * quote amount; `expiry` is a unix time in seconds (the order is valid while block.timestamp <= expiry);
 * `nonce` makes otherwise equal orders distinct and is marked used once the order is completely filled.
 */
export interface Order {
  readonly trader: Address;
  readonly baseToken: Address;
  readonly quoteToken: Address;
  readonly isBuy: boolean;
  readonly price: bigint;
  readonly size: bigint;
  readonly maxFeeRate: number;
  readonly expiry: bigint;
  readonly nonce: bigint;
}

/** An order with the trader's 65-byte signature over its EIP-712 digest. */
export interface SignedOrder extends Order {
  readonly signature: Hex;
}

/** The EIP-712 domain of one deployed settlement contract. */
export interface SettlementDomain {
  readonly name: string;
  readonly version: string;
  readonly chainId: number;
  readonly verifyingContract: Address;
}

export const orderTypes = {
  Order: [
    { name: 'trader', type: 'address' },
    { name: 'baseToken', type: 'address' },
    { name: 'quoteToken', type: 'address' },
    { name: 'isBuy', type: 'bool' },
    { name: 'price', type: 'uint128' },
    { name: 'size', type: 'uint128' },
    { name: 'maxFeeRate', type: 'uint32' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
} as const;

export function settlementDomain(chainId: number, verifyingContract: Address): SettlementDomain {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract };
}

/** The full typed-data payload, for wallets (`walletClient.signTypedData(orderTypedData(...))`). */
export function orderTypedData(
  domain: SettlementDomain,
  order: Order,
): TypedDataDefinition<typeof orderTypes, 'Order'> {
  return {
    domain,
    types: orderTypes,
    primaryType: 'Order',
    message: {
      trader: order.trader,
      baseToken: order.baseToken,
      quoteToken: order.quoteToken,
      isBuy: order.isBuy,
      price: order.price,
      size: order.size,
      maxFeeRate: order.maxFeeRate,
      expiry: order.expiry,
      nonce: order.nonce,
    },
  };
}

/** The EIP-712 digest: what the trader signs, the contract's filledAmount key and OrderFilled's orderHash. */
export function hashOrder(domain: SettlementDomain, order: Order): Hex {
  assertOrder(order);
  return hashTypedData(orderTypedData(domain, order));
}

/** Signs an order with a local account (private key, mnemonic); the account must be the order's trader. */
export async function signOrder(account: LocalAccount, domain: SettlementDomain, order: Order): Promise<SignedOrder> {
  assertOrder(order);
  if (account.address.toLowerCase() !== order.trader.toLowerCase()) {
    throw new ChainError('INVALID_ORDER', `account ${account.address} cannot sign for trader ${order.trader}`);
  }
  const signature = await account.signTypedData(orderTypedData(domain, order));
  return { ...order, signature };
}

/** r, s, v (27/28) of a 65-byte signature, as the contract reads them. */
export function splitSignature(signature: Hex): { r: Hex; s: Hex; v: number } {
  if (signature.length !== 132) {
    throw new ChainError('INVALID_ORDER', `signature must be 65 bytes, got ${(signature.length - 2) / 2}`);
  }
  // Packed as given (the contract rejects bad values); only a 0/1 recovery id is mapped to 27/28.
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return { r: `0x${signature.slice(2, 66)}`, s: `0x${signature.slice(66, 130)}`, v: v < 2 ? v + 27 : v };
}

/**
 * The quote amount of a fill: base * price / PRICE_SCALE. The contract rejects fills where this is not an
 * integer, so this throws INEXACT_QUOTE_AMOUNT in the same case (markets must choose lot and tick sizes
 * with lot * tick a multiple of PRICE_SCALE).
 */
export function quoteAmount(baseAmount: bigint, price: bigint): bigint {
  const notional = baseAmount * price;
  if (notional % PRICE_SCALE !== 0n) {
    throw new ChainError(
      'INEXACT_QUOTE_AMOUNT',
      `base ${baseAmount} * price ${price} is not a multiple of ${PRICE_SCALE}: the quote amount is not an integer`,
    );
  }
  return notional / PRICE_SCALE;
}

/** Fee of one side of a fill: quote * rate / FEE_RATE_SCALE, rounded down (as the contract does). */
export function feeAmount(quote: bigint, feeRate: number): bigint {
  return (quote * BigInt(feeRate)) / 1_000_000n;
}

const UINT128_MAX = (1n << 128n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

export function assertOrder(order: Order): void {
  const bad = (what: string): never => {
    throw new ChainError('INVALID_ORDER', `order ${what}`);
  };
  if (order.price < 0n || order.price > UINT128_MAX) bad(`price ${order.price} is not a uint128`);
  if (order.size < 0n || order.size > UINT128_MAX) bad(`size ${order.size} is not a uint128`);
  if (!Number.isInteger(order.maxFeeRate) || order.maxFeeRate < 0 || order.maxFeeRate > 0xffffffff) {
    bad(`maxFeeRate ${order.maxFeeRate} is not a uint32`);
  }
  if (order.expiry < 0n || order.expiry > UINT64_MAX) bad(`expiry ${order.expiry} is not a uint64`);
  if (order.nonce < 0n || order.nonce > UINT64_MAX) bad(`nonce ${order.nonce} is not a uint64`);
}
