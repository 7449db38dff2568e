// Gas of settleBatch per fill for batches of 1, 10, 100 and 500 fills, with new and with repeat traders, and
// the largest batch that fits under the EIP-7825 per-transaction cap (16,777,216 gas), found with real
// transactions sent with gas = cap on anvil snapshots. Prints a table and writes JSON to
// $PARALLAX_GAS_REPORT or libs/chain/dist/gas-report.json.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseGwei, type Address, type LocalAccount } from 'viem';
import { batchByteLength, encodeBatch, type BatchFill } from '../batch.js';
import { expectSuccess, settleBatch } from '../client.js';
import { MAX_TX_GAS } from '../constants.js';
import { settlementAbi, testTokenAbi } from '../generated/contracts.js';
import { startLocalChain, type LocalChain } from '../local.js';
import { signOrder, type SignedOrder } from '../order.js';
import { ONE, PRICE, account, chainNow, makeOrder, nextBatchId } from './support.js';

const SIZES = [1, 10, 100, 500] as const;
const REPEAT_POOL = 10; // repeat traders: 10 buyers and 10 sellers who have traded before
const BIG_GAS = 200_000_000n; // to measure batches above the cap (anvil does not enforce it by default)
const FEES = { maxFeePerGas: parseGwei('20'), maxPriorityFeePerGas: 0n };

interface GasRow {
  readonly scenario: string;
  readonly fills: number;
  readonly orders: number;
  readonly batchBytes: number;
  readonly gasUsed: number;
  readonly gasPerFill: number;
  readonly fitsTxGasCap: boolean;
}

let lc: LocalChain;
let BASE: Address;
let QUOTE: Address;
let seq = 0;

before(async () => {
  lc = await startLocalChain({ anvil: { gasLimit: 300_000_000n } });
  BASE = lc.tokens['BASE']!;
  QUOTE = lc.tokens['QUOTE']!;
});

after(async () => {
  await lc.close();
});

/**
 * Mints once per token, then deposits for every trader with explicit nonce, gas and fees, all mined in one
 * block (automine off while sending): thousands of deposits in a few seconds.
 */
async function fundMany(entries: readonly { trader: Address; token: Address; amount: bigint }[]): Promise<void> {
  await lc.testClient.setAutomine(false);
  try {
    await sendFunding(entries);
  } finally {
    await lc.testClient.setAutomine(true);
  }
}

async function sendFunding(entries: readonly { trader: Address; token: Address; amount: bigint }[]): Promise<void> {
  const totals = new Map<Address, bigint>();
  for (const e of entries) totals.set(e.token, (totals.get(e.token) ?? 0n) + e.amount);
  let nonce = await lc.publicClient.getTransactionCount({ address: lc.funder.account.address, blockTag: 'pending' });
  let last: `0x${string}` | undefined;
  for (const [token, total] of totals) {
    last = await lc.funder.writeContract({ address: token, abi: testTokenAbi, functionName: 'mint', args: [lc.funder.account.address, total], gas: 100_000n, nonce: nonce++, ...FEES });
  }
  for (const e of entries) {
    last = await lc.funder.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'depositFor', args: [e.trader, e.token, e.amount], gas: 150_000n, nonce: nonce++, ...FEES });
  }
  await lc.testClient.mine({ blocks: 1 });
  if (last !== undefined) await expectSuccess(lc.publicClient, last, 'funding');
}

interface Scenario {
  readonly orders: SignedOrder[];
  readonly fills: BatchFill[];
}

/** Fill i: a fresh buyer and a fresh seller, each with one new order (nonce 0) and only the token they pay. */
async function newTraders(count: number): Promise<Scenario> {
  const now = await chainNow(lc);
  const pairs: { buyer: LocalAccount; seller: LocalAccount }[] = [];
  for (let i = 0; i < count; i++) pairs.push({ buyer: account(`gas-new-b-${seq}`), seller: account(`gas-new-s-${seq++}`) });
  await fundMany(pairs.flatMap(({ buyer, seller }) => [
    { trader: buyer.address, token: QUOTE, amount: 10_000_000_000n },
    { trader: seller.address, token: BASE, amount: 2n * ONE },
  ]));
  const orders: SignedOrder[] = [];
  const fills: BatchFill[] = [];
  for (const { buyer, seller } of pairs) {
    orders.push(await signOrder(buyer, lc.domain, makeOrder(lc, buyer, now, { isBuy: true, maxFeeRate: 1_000 })));
    orders.push(await signOrder(seller, lc.domain, makeOrder(lc, seller, now, { isBuy: false, maxFeeRate: 1_000 })));
    fills.push({ buyOrder: orders.length - 2, sellOrder: orders.length - 1, baseAmount: ONE, price: PRICE, buyFeeRate: 1_000, sellFeeRate: 500 });
  }
  return { orders, fills };
}

const buyers = Array.from({ length: REPEAT_POOL }, (_, i) => account(`gas-repeat-b-${i}`));
const sellers = Array.from({ length: REPEAT_POOL }, (_, i) => account(`gas-repeat-s-${i}`));
const nextNonce = new Map<Address, bigint>();
function nonceOf(a: LocalAccount): bigint {
  const n = nextNonce.get(a.address) ?? 0n;
  nextNonce.set(a.address, n + 1n);
  return n;
}

/** Fill i: buyer i % 10 and seller i % 10, who hold both tokens and have traded before, with new orders. */
async function repeatTraders(count: number): Promise<Scenario> {
  const now = await chainNow(lc);
  const orders: SignedOrder[] = [];
  const fills: BatchFill[] = [];
  for (let i = 0; i < count; i++) {
    const buyer = buyers[i % REPEAT_POOL]!;
    const seller = sellers[i % REPEAT_POOL]!;
    orders.push(await signOrder(buyer, lc.domain, makeOrder(lc, buyer, now, { isBuy: true, maxFeeRate: 1_000, nonce: nonceOf(buyer) })));
    orders.push(await signOrder(seller, lc.domain, makeOrder(lc, seller, now, { isBuy: false, maxFeeRate: 1_000, nonce: nonceOf(seller) })));
    fills.push({ buyOrder: 2 * i, sellOrder: 2 * i + 1, baseAmount: ONE, price: PRICE, buyFeeRate: 1_000, sellFeeRate: 500 });
  }
  return { orders, fills };
}

/** One resting sell order of a repeat trader taken by `count` new buy orders of repeat traders. */
async function oneMaker(count: number): Promise<Scenario> {
  const now = await chainNow(lc);
  const maker = sellers[0]!;
  const orders: SignedOrder[] = [
    await signOrder(maker, lc.domain, makeOrder(lc, maker, now, { isBuy: false, size: BigInt(count) * ONE, nonce: nonceOf(maker) })),
  ];
  const fills: BatchFill[] = [];
  for (let i = 0; i < count; i++) {
    const buyer = buyers[i % REPEAT_POOL]!;
    orders.push(await signOrder(buyer, lc.domain, makeOrder(lc, buyer, now, { isBuy: true, nonce: nonceOf(buyer) })));
    fills.push({ buyOrder: orders.length - 1, sellOrder: 0, baseAmount: ONE, price: PRICE });
  }
  return { orders, fills };
}

/** Settles with an explicit gas limit and no simulation; returns gasUsed, or undefined if it ran out of gas. */
async function attempt(s: Scenario, gas: bigint): Promise<{ gasUsed: bigint; bytes: number } | undefined> {
  const batch = encodeBatch({ domain: lc.domain, orders: s.orders, fills: s.fills });
  const batchId = await nextBatchId(lc);
  const hash = await lc.operator.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'settleBatch', args: [batchId, batch.data], gas, ...FEES });
  const receipt = await lc.publicClient.waitForTransactionReceipt({ hash });
  const bytes = batchByteLength(batch.tokens.length, s.orders.length, s.fills.length);
  return receipt.status === 'success' ? { gasUsed: receipt.gasUsed, bytes } : undefined;
}

function row(scenario: string, s: Scenario, gasUsed: bigint, bytes: number): GasRow {
  return {
    scenario,
    fills: s.fills.length,
    orders: s.orders.length,
    batchBytes: bytes,
    gasUsed: Number(gasUsed),
    gasPerFill: Math.round(Number(gasUsed) / s.fills.length),
    fitsTxGasCap: gasUsed <= MAX_TX_GAS,
  };
}

function prefix(s: Scenario, fills: number): Scenario {
  // Scenarios put each fill's orders right after the previous fill's (oneMaker: the maker first).
  const used = new Set<number>();
  const take = s.fills.slice(0, fills);
  for (const f of take) used.add(f.buyOrder).add(f.sellOrder);
  const keep = [...used].sort((a, b) => a - b);
  const remap = new Map(keep.map((old, i) => [old, i]));
  return {
    orders: keep.map((i) => s.orders[i]!),
    fills: take.map((f) => ({ ...f, buyOrder: remap.get(f.buyOrder)!, sellOrder: remap.get(f.sellOrder)! })),
  };
}

/**
 * Largest prefix of `s` that settles with gas = MAX_TX_GAS: each try is a real transaction on an anvil
 * snapshot, reverted afterwards, so the search changes no state. Returns the size and its gas.
 */
async function maxUnderCap(s: Scenario, guess: number): Promise<{ fills: number; gasUsed: bigint; bytes: number }> {
  const tryN = async (n: number): Promise<{ gasUsed: bigint; bytes: number } | undefined> => {
    const id = await lc.testClient.snapshot();
    try {
      return await attempt(prefix(s, n), MAX_TX_GAS);
    } finally {
      await lc.testClient.revert({ id });
    }
  };
  let lo = Math.max(1, Math.floor(guess * 0.9));
  let hi = Math.min(s.fills.length, Math.ceil(guess * 1.1));
  let best = await tryN(lo);
  assert.ok(best, `a batch of ${lo} fills should fit under the cap`);
  assert.equal(await tryN(hi), undefined, `a batch of ${hi} fills should not fit under the cap`);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await tryN(mid);
    if (r) {
      lo = mid;
      best = r;
    } else {
      hi = mid;
    }
  }
  return { fills: lo, ...best };
}

test('gas per fill and the largest batch under the per-transaction gas cap', { timeout: 600_000 }, async () => {
  const rows: GasRow[] = [];
  const maxima: { scenario: string; maxFills: number; gasUsed: number; gasPerFill: number; batchBytes: number }[] = [];

  // Repeat traders: fund the pool and let every pair trade once, so balances and nonce words are warm.
  await fundMany([...buyers, ...sellers].flatMap((t) => [
    { trader: t.address, token: QUOTE, amount: 10n ** 16n },
    { trader: t.address, token: BASE, amount: 10n ** 6n * ONE },
  ]));
  const warm = await repeatTraders(REPEAT_POOL);
  await settleBatch(lc.operator, lc.publicClient, lc.settlement, await nextBatchId(lc), encodeBatch({ domain: lc.domain, ...warm }));

  const scenarios: [string, (n: number) => Promise<Scenario>][] = [
    ['new traders', newTraders],
    ['repeat traders', repeatTraders],
    ['one maker order, repeat takers', oneMaker],
  ];
  for (const [name, make] of scenarios) {
    for (const n of SIZES) {
      const s = await make(n);
      const r = await attempt(s, BIG_GAS);
      assert.ok(r, `${name} x ${n} settles`);
      rows.push(row(name, s, r.gasUsed, r.bytes));
    }
    const largest = rows.filter((r) => r.scenario === name).at(-1)!;
    const guess = Math.floor(Number(MAX_TX_GAS) / largest.gasPerFill);
    // The search settles on snapshots it reverts, so its nonces were never used on chain: hand them out
    // again. Otherwise the next scenario's repeat traders would skip ahead into nonce words they never
    // wrote (128 nonces a word), and measure a fresh word's 20k per trader instead of warm state.
    const nonces = new Map(nextNonce);
    const s = await make(Math.ceil(guess * 1.1) + 1);
    const max = await maxUnderCap(s, guess);
    nextNonce.clear();
    for (const [trader, n] of nonces) nextNonce.set(trader, n);
    maxima.push({ scenario: name, maxFills: max.fills, gasUsed: Number(max.gasUsed), gasPerFill: Math.round(Number(max.gasUsed) / max.fills), batchBytes: max.bytes });
  }

  console.log('\nsettleBatch gas (anvil 1.7.1, evm cancun bytecode; fees on, 1 fill = 1 base unit lot at one price)');
  console.log('scenario                          fills  orders  batch B     gasUsed  gas/fill  fits 2^24');
  for (const r of rows) {
    console.log(
      `${r.scenario.padEnd(32)} ${String(r.fills).padStart(6)} ${String(r.orders).padStart(7)} ${String(r.batchBytes).padStart(8)} ${String(r.gasUsed).padStart(11)} ${String(r.gasPerFill).padStart(9)}  ${r.fitsTxGasCap ? 'yes' : 'no'}`,
    );
  }
  for (const m of maxima) {
    console.log(`max fills under 16,777,216 gas, ${m.scenario}: ${m.maxFills} (${m.gasUsed} gas, ${m.gasPerFill}/fill, ${m.batchBytes} B)`);
  }
  const out = process.env['PARALLAX_GAS_REPORT'] ?? fileURLToPath(new URL('../gas-report.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify({ measuredAt: new Date().toISOString(), txGasCap: Number(MAX_TX_GAS), rows, maxima }, null, 2)}\n`);
  console.log(`written ${out}`);

  // Sanity of the figures themselves (not of fixed numbers): warm state is cheaper than cold state, larger
  // batches amortise the fixed cost, and the 500-fill repeat-trader batch's per-fill gas is below the new one's.
  const per = (scenario: string, fills: number): number => rows.find((r) => r.scenario === scenario && r.fills === fills)!.gasPerFill;
  assert.ok(per('repeat traders', 500) < per('new traders', 500));
  assert.ok(per('repeat traders', 100) < per('repeat traders', 1));
  assert.ok(per('one maker order, repeat takers', 100) < per('repeat traders', 100));
  for (const m of maxima) assert.ok(m.gasUsed <= Number(MAX_TX_GAS));
});
