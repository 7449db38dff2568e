// prepare()'s bisection and gas-cap deferral against a scripted node (no anvil): which fills are kept,
// deferred (no blame) or excluded, for reverts that name no fill and for estimates over MAX_TX_GAS.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RpcRequestError, createPublicClient, createWalletClient, custom, decodeFunctionData, defineChain, toHex, type Hex } from 'viem';
import { decodeBatch, type BatchFill, type BatchInput } from '../batch.js';
import { MAX_TX_GAS } from '../constants.js';
import { settlementAbi } from '../generated/contracts.js';
import { settlementDomain, signOrder, type SignedOrder } from '../order.js';
import { account } from '../contract-tests/support.js';
import { BatchSettler } from './batch-settler.js';

const chain = defineChain({ id: 31337, name: 'scripted', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: ['http://127.0.0.1:1'] } } });
const settlement = '0x00000000000000000000000000000000000000aa';
const domain = settlementDomain(chain.id, settlement);
const BASE = '0x00000000000000000000000000000000000000b1';
const QUOTE = '0x00000000000000000000000000000000000000b2';

/** `fills` fills, fill i between two fresh orders, with baseAmount 1000 + i (how the scripted node recognises them). */
async function batch(fills: number): Promise<BatchInput> {
  const orders: SignedOrder[] = [];
  const out: BatchFill[] = [];
  for (let i = 0; i < fills; i++) {
    for (const isBuy of [true, false]) {
      const trader = account(`bisect-${i}-${isBuy}`);
      orders.push(await signOrder(trader, domain, { trader: trader.address, baseToken: BASE, quoteToken: QUOTE, isBuy, price: 10n ** 18n, size: 10_000n, maxFeeRate: 0, expiry: 2n ** 40n, nonce: 0n }));
    }
    out.push({ buyOrder: 2 * i, sellOrder: 2 * i + 1, baseAmount: 1_000n + BigInt(i), price: 10n ** 18n });
  }
  return { domain, orders, fills: out };
}

/**
 * A node whose eth_call and eth_estimateGas revert with undecodable data when a poisoned fill is in the batch
 * (no eth_createAccessList: the settler falls back to estimateGas) and whose estimate is gasPerFill * fills.
 * `calls` records the batches the settler measured (every trial measures; eth_call only follows a failure).
 */
function scriptedSettler(poisoned: ReadonlySet<number>, gasPerFill: bigint, broken?: string): { settler: BatchSettler; calls: number[][] } {
  const calls: number[][] = [];
  const transport = custom({
    request: ({ method, params }: { method: string; params: unknown }) => {
      if (method === 'eth_chainId') return Promise.resolve(toHex(chain.id));
      if (method === broken) return Promise.reject(new RpcRequestError({ body: {}, url: 'scripted', error: { code: -32601, message: `${method} not supported` } }));
      if (method === 'eth_call' || method === 'eth_estimateGas') {
        const [tx] = params as [{ data: Hex }];
        const { args } = decodeFunctionData({ abi: settlementAbi, data: tx.data });
        const fills = decodeBatch(args[1] as Hex).fills.map((f) => Number(f.baseAmount - 1_000n));
        if (method === 'eth_estimateGas') calls.push(fills);
        if (fills.some((f) => poisoned.has(f))) {
          return Promise.reject(new RpcRequestError({ body: {}, url: 'scripted', error: { code: 3, message: 'execution reverted', data: '0xdeadbeef' } }));
        }
        return Promise.resolve(method === 'eth_call' ? '0x' : toHex(gasPerFill * BigInt(fills.length)));
      }
      return Promise.reject(Object.assign(new Error(`unexpected ${method}`), { code: -32601 }));
    },
  });
  const reader = createPublicClient({ chain, transport });
  const operator = createWalletClient({ chain, transport, account: account('operator') });
  return { settler: new BatchSettler({ reader, operator }, settlement, { gasMarginPercent: 10 }, (e, f) => { if (process.env["DBG"] !== undefined) console.log(e, f); }), calls };
}

describe('BatchSettler.prepare without blame', () => {
  test('an undecodable revert bisects: the first passing half is kept, the rest deferred without blame', async () => {
    const { settler, calls } = scriptedSettler(new Set([1]), 100_000n);
    const prepared = await settler.prepare(5n, await batch(6));
    assert.equal(prepared.kind, 'ready');
    // [0..5] fails -> [0,1,2] fails -> [0,1] fails -> [0] passes; [1..5] are deferred, not blamed.
    assert.deepEqual(prepared.kept, [0]);
    assert.deepEqual(prepared.deferred, [1, 2, 3, 4, 5]);
    assert.deepEqual(prepared.excluded, []);
    assert.deepEqual(calls, [[0, 1, 2, 3, 4, 5], [0, 1, 2], [0, 1], [0]]);
    assert.equal(prepared.encoded.fills.length, 1);
    assert.equal(prepared.encoded.orders.length, 2);
    assert.equal(prepared.gasLimit, 110_000n);
  });

  test('a single fill that still reverts without a name is excluded as UNDECODABLE_REVERT, then the deferred fills are tried', async () => {
    const { settler } = scriptedSettler(new Set([0]), 100_000n);
    const prepared = await settler.prepare(5n, await batch(4));
    assert.equal(prepared.kind, 'ready');
    assert.deepEqual(prepared.excluded.map((e) => [e.fill, e.reason]), [[0, 'UNDECODABLE_REVERT']]);
    assert.deepEqual(prepared.kept, [1, 2, 3]);
    assert.deepEqual(prepared.deferred, []);
  });

  test('every fill unattributably bad -> empty', async () => {
    const { settler } = scriptedSettler(new Set([0, 1, 2]), 100_000n);
    const prepared = await settler.prepare(5n, await batch(3));
    assert.equal(prepared.kind, 'empty');
    assert.deepEqual(prepared.excluded.map((e) => e.fill).sort(), [0, 1, 2]);
  });

  test('an estimate over MAX_TX_GAS defers the second half; the gas limit is capped at MAX_TX_GAS', async () => {
    const perFill = (MAX_TX_GAS * 48n) / 100n; // 2 fills fit, 4 do not
    const { settler } = scriptedSettler(new Set(), perFill);
    const prepared = await settler.prepare(5n, await batch(7));
    assert.equal(prepared.kind, 'ready');
    assert.deepEqual(prepared.kept, [0, 1]); // 7 -> 4 -> 2 (4 fills are over the cap)
    assert.deepEqual(prepared.deferred, [2, 3, 4, 5, 6]);
    assert.equal(prepared.gasLimit, MAX_TX_GAS); // 2 * 0.48 * 1.1 > 1: capped
  });

  test('a node failure that is not a revert throws instead of blaming fills', async () => {
    // eth_call is only asked after the measurement failed: poison the batch so it is.
    for (const [method, poisoned] of [['eth_call', [0]], ['eth_estimateGas', []]] as const) {
      const { settler } = scriptedSettler(new Set(poisoned), 100_000n, method);
      await assert.rejects(settler.prepare(5n, await batch(2)), /not supported/);
    }
  });
});
