// Helpers shared by the contract tests (not exported from the package index).
import assert from 'node:assert/strict';
import { keccak256, toHex, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { encodeBatch, type BatchFill, type EncodedBatch } from '../batch.js';
import { settleBatch, type SettleOptions } from '../client.js';
import { decodeContractRevert } from '../errors.js';
import { settlementAbi, testTokenAbi } from '../generated/contracts.js';
import type { LocalChain } from '../local.js';
import { signOrder, type Order, type SignedOrder } from '../order.js';

/** 2000 quote units (6 decimals) per 1e18 base units: 2000 USDC per ETH. */
export const PRICE = 2_000_000_000n;
export const ONE = 10n ** 18n;

/** A deterministic account per label (private key = keccak256(label)). */
export function account(label: string): LocalAccount {
  return privateKeyToAccount(keccak256(toHex(label)));
}

export async function chainNow(lc: LocalChain): Promise<bigint> {
  return (await lc.publicClient.getBlock()).timestamp;
}

export interface OrderFields {
  readonly isBuy: boolean;
  readonly price?: bigint;
  readonly size?: bigint;
  readonly maxFeeRate?: number;
  readonly expiry?: bigint;
  readonly nonce?: bigint;
  readonly baseToken?: Address;
  readonly quoteToken?: Address;
}

export function makeOrder(lc: LocalChain, trader: LocalAccount, now: bigint, fields: OrderFields): Order {
  return {
    trader: trader.address,
    baseToken: fields.baseToken ?? lc.tokens['BASE']!,
    quoteToken: fields.quoteToken ?? lc.tokens['QUOTE']!,
    isBuy: fields.isBuy,
    price: fields.price ?? PRICE,
    size: fields.size ?? ONE,
    maxFeeRate: fields.maxFeeRate ?? 0,
    expiry: fields.expiry ?? now + 7n * 86_400n,
    nonce: fields.nonce ?? 0n,
  };
}

export async function signed(lc: LocalChain, trader: LocalAccount, now: bigint, fields: OrderFields): Promise<SignedOrder> {
  return signOrder(trader, lc.domain, makeOrder(lc, trader, now, fields));
}

export async function nextBatchId(lc: LocalChain): Promise<bigint> {
  const last = await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'lastBatchId' });
  return last + 1n;
}

/** Encodes and settles orders/fills under the next batch id. */
export async function settle(
  lc: LocalChain,
  orders: readonly SignedOrder[],
  fills: readonly BatchFill[],
  options: SettleOptions = {},
): Promise<{ batch: EncodedBatch; batchId: bigint; receipt: Awaited<ReturnType<typeof settleBatch>> }> {
  const batch = encodeBatch({ domain: lc.domain, orders, fills });
  const batchId = await nextBatchId(lc);
  const receipt = await settleBatch(lc.operator, lc.publicClient, lc.settlement, batchId, batch, options);
  return { batch, batchId, receipt };
}

export async function settleRaw(lc: LocalChain, data: Hex, batchId?: bigint): Promise<unknown> {
  return settleBatch(lc.operator, lc.publicClient, lc.settlement, batchId ?? (await nextBatchId(lc)), data);
}

/** Asserts that the promise rejects with the contract's custom error `name` (and `args`, when given). */
export async function expectRevert(promise: Promise<unknown>, name: string, args?: readonly unknown[]): Promise<void> {
  let result: unknown;
  try {
    result = await promise;
  } catch (err) {
    const revert = decodeContractRevert(err);
    assert.ok(revert, `expected revert ${name}, got: ${err instanceof Error ? err.message : String(err)}`);
    assert.equal(revert.name, name, `expected revert ${name}, got ${revert.name}(${revert.args.join(', ')})`);
    if (args !== undefined) assert.deepEqual(revert.args, args);
    return;
  }
  assert.fail(`expected revert ${name}, but the call succeeded: ${String(result)}`);
}

export async function balanceOf(lc: LocalChain, token: Address, trader: Address): Promise<bigint> {
  return lc.publicClient.readContract({
    address: lc.settlement,
    abi: settlementAbi,
    functionName: 'balanceOf',
    args: [token, trader],
  });
}

export async function tokenBalance(lc: LocalChain, token: Address, holder: Address): Promise<bigint> {
  return lc.publicClient.readContract({ address: token, abi: testTokenAbi, functionName: 'balanceOf', args: [holder] });
}

/** Overwrites `bytes` (hex without 0x) at byte offset `at` of a hex string. */
export function patch(data: Hex, at: number, bytes: string): Hex {
  const start = 2 + at * 2;
  return `0x${data.slice(2, start)}${bytes}${data.slice(start + bytes.length)}`;
}
