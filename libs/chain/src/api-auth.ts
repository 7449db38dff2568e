// The trading API's signed messages besides the order itself (their EIP-712 types: typed-data.ts). Orders are the settlement contract's EIP-712
// `Order` (@parallax/chain); cancels and the WebSocket login are API-only authorisations signed in the same
// domain (chain id + settlement contract), so a signature made for one deployment or one chain is worthless
// on another, and each has its own primary type, so an order signature can never pass as a cancel.
// Every message carries a short expiry and a nonce: the gateway refuses an expired message and remembers
// (trader, nonce) until the expiry has passed, which stops replay.
import { hashTypedData, type Address, type Hex, type LocalAccount } from 'viem';
import type { SettlementDomain } from './order.js';
import { typesOf } from './typed-data.js';

export const cancelTypes = typesOf('Cancel');
export const cancelAllTypes = typesOf('CancelAll');
export const loginTypes = typesOf('Login');

/** Cancel one order, by engine id (clientOrderId '') or by client order id (orderId 0). */
export interface CancelMessage {
  readonly trader: Address;
  readonly marketId: number;
  readonly orderId: bigint;
  readonly clientOrderId: string;
  /** Unix seconds. */
  readonly expiry: bigint;
  readonly nonce: bigint;
}

export interface CancelAllMessage {
  readonly trader: Address;
  /** 0 = every market. */
  readonly marketId: number;
  readonly expiry: bigint;
  readonly nonce: bigint;
}

export interface LoginMessage {
  readonly trader: Address;
  readonly expiry: bigint;
  readonly nonce: bigint;
}

export function hashCancel(domain: SettlementDomain, m: CancelMessage): Hex {
  return hashTypedData({ domain, types: cancelTypes, primaryType: 'Cancel', message: { ...m } });
}

export function hashCancelAll(domain: SettlementDomain, m: CancelAllMessage): Hex {
  return hashTypedData({ domain, types: cancelAllTypes, primaryType: 'CancelAll', message: { ...m } });
}

export function hashLogin(domain: SettlementDomain, m: LoginMessage): Hex {
  return hashTypedData({ domain, types: loginTypes, primaryType: 'Login', message: { ...m } });
}

export function signCancel(account: LocalAccount, domain: SettlementDomain, m: CancelMessage): Promise<Hex> {
  return account.signTypedData({ domain, types: cancelTypes, primaryType: 'Cancel', message: { ...m } });
}

export function signCancelAll(account: LocalAccount, domain: SettlementDomain, m: CancelAllMessage): Promise<Hex> {
  return account.signTypedData({ domain, types: cancelAllTypes, primaryType: 'CancelAll', message: { ...m } });
}

export function signLogin(account: LocalAccount, domain: SettlementDomain, m: LoginMessage): Promise<Hex> {
  return account.signTypedData({ domain, types: loginTypes, primaryType: 'Login', message: { ...m } });
}
