// The settlement state machine, step by step, against the real SettlementRepository on embedded PGlite and a
// scripted in-memory chain (testing/scripted-settler.ts): every scenario asserts the database rows, what the
// chain saw and the status events.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeBatch, settlementDomain, type SettlementMarket } from '@parallax/chain';
import type { SettlementStatus } from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import {
  createEmbeddedPrismaClient,
  embeddedWriterLease,
  PersistenceError,
  SettlementRepository,
  type WriterLease,
  type FillKey,
  type Hex,
  type PrismaClient,
  type SettlementFillRecord,
  type SettlementOrderRecord,
} from '@parallax/persistence';
import { Registry } from 'prom-client';
import { bytesToHex } from 'viem';
import type { SettlementConfig } from '../config/settlement.config.js';
import { ScriptedSettler, type ExclusionRule } from '../testing/scripted-settler.js';
import { IDLE_POLL_MS, QUIET_FULL_STEP_EVERY, SettlementHalt, SettlementLoop } from './settlement.loop.js';
import { SettlementMetrics } from './settlement.metrics.js';

const LOT = 10n ** 15n;
const TICK = 10n ** 4n;
const SETTLEMENT: Hex = '0x00000000000000000000000000000000000005e7';
const QUOTE: Hex = '0x00000000000000000000000000000000000000c0';
const MARKETS: SettlementMarket[] = [
  { marketId: 1, baseToken: '0x00000000000000000000000000000000000000b1', quoteToken: QUOTE, lotSize: LOT, tickSize: TICK },
  { marketId: 2, baseToken: '0x00000000000000000000000000000000000000b2', quoteToken: QUOTE, lotSize: LOT, tickSize: TICK },
];
const DOMAIN = settlementDomain(31_337, SETTLEMENT);
const SIGNATURE: Hex = `0x${'ab'.repeat(32)}${'1b'.repeat(33)}`;

type BatchPolicy = SettlementConfig['batch'];

function settlementConfig(batch: Partial<BatchPolicy> = {}): SettlementConfig {
  return {
    kafkaBrokers: undefined,
    kafkaClientId: 'settlement-loop-spec',
    kafkaConsumer: {},
    logLevel: 'info',
    logFormat: 'json',
    groupId: 'settlement-loop-spec',
    topics: { marketEvents: 'spec.events', deadLetters: 'spec.dead', signedOrders: 'spec.signed', settlementStatus: 'spec.status' },
    partitions: 1,
    ensureTopics: false,
    databaseUrl: undefined,
    allowEphemeralDb: true,
    dataDir: undefined,
    rpcUrl: 'http://127.0.0.1:1',
    chainId: DOMAIN.chainId,
    settlement: SETTLEMENT,
    operatorKey: `0x${'11'.repeat(32)}`,
    markets: new Map(MARKETS.map((m) => [m.marketId, m])),
    fees: { makerFeeRate: 0, takerFeeRate: 0 },
    batch: { maxFills: 3, maxGas: 15_000_000, maxAgeMs: 0, signedOrderWaitMs: 60_000, ...batch },
    settler: { confirmations: 1, replaceAfterMs: 5_000, feeBumpPercent: 25, priorityFeePerGas: 1_000_000_000n, maxFeePerGasCap: 500_000_000_000n, pollIntervalMs: 5, logsFromBlock: 0n },
    httpHost: '127.0.0.1',
    httpPort: 0,
  };
}

// --- test data: trade (market, seq) between maker order 2*seq and taker order 2*seq+1 ------------------------------

interface Trade {
  readonly key: FillKey;
  readonly fill: SettlementFillRecord;
  readonly maker: SettlementOrderRecord;
  readonly taker: SettlementOrderRecord;
}

/** Each fill's size is unique (100 * market + seq lots), so the scripted simulation can tell fills apart. */
const lotsOf = (k: FillKey): bigint => 100n * BigInt(k.marketId) + k.seq;
const name = (k: FillKey): string => `${k.marketId}/${k.seq}`;

function trade(marketId: number, seq: number, takerSide: 'BUY' | 'SELL' = seq % 2 === 0 ? 'SELL' : 'BUY'): Trade {
  const key = { marketId, seq: BigInt(seq) };
  const priceTicks = 200_000n + key.seq;
  const sizeLots = lotsOf(key);
  const takerIsBuy = takerSide === 'BUY';
  const order = (orderId: bigint, isBuy: boolean, limitTicks: bigint): SettlementOrderRecord => ({
    marketId,
    orderId,
    accountId: 1_000n + orderId,
    trader: `0x${(marketId * 1_000_000 + Number(orderId)).toString(16).padStart(40, '0')}`,
    isBuy,
    price: limitTicks * TICK,
    size: sizeLots * LOT,
    nonce: BigInt(marketId) * 1_000_000n + orderId,
    maxFeeRate: 1_000,
    expiry: 2_000_000_000n,
    signature: SIGNATURE,
  });
  return {
    key,
    fill: {
      marketId,
      seq: key.seq,
      makerOrderId: 2n * key.seq,
      takerOrderId: 2n * key.seq + 1n,
      makerAccountId: 1_000n + 2n * key.seq,
      takerAccountId: 1_000n + 2n * key.seq + 1n,
      takerSide,
      priceTicks,
      sizeLots,
      ts: 1_000n + key.seq,
    },
    // The maker rests at the trade price; the taker's limit crosses it.
    maker: order(2n * key.seq, !takerIsBuy, priceTicks),
    taker: order(2n * key.seq + 1n, takerIsBuy, takerIsBuy ? priceTicks + 10n : priceTicks - 10n),
  };
}

/** Seven trades across both markets, in arrival (FIFO) order. */
const SEVEN = [trade(1, 1), trade(2, 1), trade(1, 2), trade(2, 2), trade(1, 3), trade(2, 3), trade(1, 4)];

/** The scripted simulation blames the listed fills with `reason`. */
function blame(reason: string, ...trades: Trade[]): ExclusionRule {
  const amounts = new Set(trades.map((t) => lotsOf(t.key) * LOT));
  return (f) => (amounts.has(f.baseAmount) ? reason : undefined);
}
const keepAll: ExclusionRule = () => undefined;

/** The fills of an on-chain batch, by name, from its calldata. */
function namesInData(data: Hex): string[] {
  return decodeBatch(data).fills.map((f) => {
    const lots = f.baseAmount / LOT;
    return name({ marketId: Number(lots / 100n), seq: lots % 100n });
  });
}

// --- harness ----------------------------------------------------------------------------------------------------

describe('SettlementLoop (real repository on PGlite, scripted chain)', () => {
  let prisma: PrismaClient;
  let repo: SettlementRepository;
  const log = createLogger('settlement-loop-spec', 'silent');
  const signal = new AbortController().signal;

  before(async () => {
    prisma = await createEmbeddedPrismaClient();
    repo = new SettlementRepository(prisma);
  });

  after(async () => {
    await prisma.$disconnect();
  });

  beforeEach(async () => {
    await prisma.$executeRawUnsafe('TRUNCATE settlement_txs, settlement_batches, settlement_fills, settlement_orders RESTART IDENTITY CASCADE');
  });

  interface Harness {
    readonly loop: SettlementLoop;
    readonly metrics: SettlementMetrics;
  }

  /** A loop (a service process) over the shared database and the given chain; events go to `events`. */
  function start(
    chain: ScriptedSettler,
    events: SettlementStatus[],
    batch: Partial<BatchPolicy> = {},
    lease: Pick<WriterLease, 'assertHeld'> = embeddedWriterLease(),
  ): Harness {
    const metrics = new SettlementMetrics(new Registry());
    const publish = (s: SettlementStatus): Promise<void> => {
      events.push(s);
      return Promise.resolve();
    };
    const loop = new SettlementLoop(settlementConfig(batch), repo, chain, DOMAIN, metrics, publish, log, lease);
    loops.push(loop);
    return { loop, metrics };
  }
  /** The loops of the running test: store() wakes them, as the ingest does after it stored fills or orders. */
  const loops: SettlementLoop[] = [];
  beforeEach(() => {
    loops.length = 0;
  });

  /** step() until it reports nothing to do; returns the steps that worked. */
  async function drain(loop: SettlementLoop, max = 60): Promise<number> {
    let worked = 0;
    while (await loop.step(signal)) {
      worked++;
      if (worked > max) throw new Error(`the loop still works after ${max} steps`);
    }
    return worked;
  }

  async function store(trades: readonly Trade[], opts: { readonly withoutOrders?: readonly bigint[]; readonly wake?: boolean } = {}): Promise<void> {
    const skip = new Set(opts.withoutOrders ?? []);
    await repo.saveOrders(trades.flatMap((t) => [t.maker, t.taker]).filter((o) => !skip.has(BigInt(o.marketId) * 1_000_000n + o.orderId)));
    await repo.saveFills(trades.map((t) => t.fill));
    if (opts.wake !== false) for (const loop of loops) loop.wake();
  }

  const brief = (events: readonly SettlementStatus[]): string[] => events.map((e) => `${e.status}:${e.batchId}`);

  /** Every fill of the database as name -> status@batch (FAILED ones with their reason). */
  async function fillStates(): Promise<Record<string, string>> {
    const rows = await prisma.settlementFill.findMany({ orderBy: { id: 'asc' } });
    return Object.fromEntries(
      rows.map((r) => [name(r), r.status === 'FAILED' ? `FAILED ${r.failureReason ?? '?'}` : `${r.status}${r.batchId === null ? '' : `@${r.batchId}`}`]),
    );
  }

  async function batchesInDb(): Promise<string[]> {
    return (await repo.allBatches()).map((b) => `${b.id}:${b.status}:${b.fillCount}`);
  }

  async function counter(metric: { get(): Promise<{ values: readonly { value: number }[] }> }): Promise<number> {
    return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  it('polls at POLL_INTERVAL_MS while a fill waits, and only every IDLE_POLL_MS when nothing is pending or open', async () => {
    const chain = new ScriptedSettler();
    // A long batch age: one stored fill waits in the database without being batched.
    const { loop } = start(chain, [], { maxAgeMs: 60_000 });
    assert.equal(await loop.step(signal), false);
    assert.equal(loop.pollDelayMs(), IDLE_POLL_MS, 'empty: idle');
    await store([trade(1, 1)]);
    assert.equal(await loop.step(signal), false);
    assert.equal(loop.pollDelayMs(), 5, 'a fill waits for its batch: the configured interval');
    const { loop: eager } = start(chain, []);
    await drain(eager);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:1']);
    assert.equal(eager.pollDelayMs(), IDLE_POLL_MS, 'all settled: idle again');
  });

  it('while quiet, an idle step reads only lastBatchId: the database again after wake(), a new lastBatchId, or every QUIET_FULL_STEP_EVERY-th step', async () => {
    const chain = new ScriptedSettler();
    const { loop } = start(chain, [], { maxAgeMs: 60_000 });
    assert.equal(await loop.step(signal), false);
    assert.equal(loop.pollDelayMs(), IDLE_POLL_MS, 'empty: quiet');
    // A fill stored without a wake (the ingest always wakes the loop): the quiet steps do not look...
    await store([trade(1, 1)], { wake: false });
    for (let i = 1; i < QUIET_FULL_STEP_EVERY; i++) {
      assert.equal(await loop.step(signal), false);
      assert.equal(loop.pollDelayMs(), IDLE_POLL_MS, `idle step ${i}: the database is not read`);
    }
    // ... until the periodic full step finds it waiting for its batch.
    assert.equal(await loop.step(signal), false);
    assert.equal(loop.pollDelayMs(), 5, 'the full step sees the waiting fill');

    await prisma.$executeRawUnsafe('TRUNCATE settlement_txs, settlement_batches, settlement_fills, settlement_orders RESTART IDENTITY CASCADE');
    const { loop: woken } = start(chain, [], { maxAgeMs: 60_000 });
    assert.equal(await woken.step(signal), false);
    await store([trade(1, 2)], { wake: false });
    assert.equal(await woken.step(signal), false);
    assert.equal(woken.pollDelayMs(), IDLE_POLL_MS, 'not seen without a wake');
    woken.wake();
    assert.equal(await woken.step(signal), false);
    assert.equal(woken.pollDelayMs(), 5, 'a wake() makes the next step read the database');

    await prisma.$executeRawUnsafe('TRUNCATE settlement_txs, settlement_batches, settlement_fills, settlement_orders RESTART IDENTITY CASCADE');
    const { loop: moved } = start(chain, [], { maxAgeMs: 60_000 });
    assert.equal(await moved.step(signal), false);
    await store([trade(1, 3)], { wake: false });
    // The chain's lastBatchId moved (here: batches this database never made): a full step, which sees them.
    chain.lastId = 3n;
    assert.equal(await moved.step(signal), false);
    assert.equal(moved.pollDelayMs(), 5, 'a new lastBatchId makes the step read the database');
  });

  // --- 1 ----------------------------------------------------------------------------------------------------------

  it('happy path: 7 fills settle as batches 1, 2, 3 of 3, 3, 1 fills, each submitted, mined, confirmed', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop, metrics } = start(chain, events);
    await store(SEVEN);

    await drain(loop);

    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:3', '3:CONFIRMED:1']);
    assert.deepEqual(await fillStates(), {
      '1/1': 'SETTLED@1', '2/1': 'SETTLED@1', '1/2': 'SETTLED@1',
      '2/2': 'SETTLED@2', '1/3': 'SETTLED@2', '2/3': 'SETTLED@2',
      '1/4': 'SETTLED@3',
    });
    assert.deepEqual(await repo.fillCounts(), { PENDING: 0, BATCHED: 0, SETTLED: 7, FAILED: 0 });

    assert.equal(chain.lastId, 3n);
    assert.deepEqual([...chain.batches.keys()], [1n, 2n, 3n]);
    assert.deepEqual(chain.txs.map((t) => [t.batchId, t.nonce, t.status, t.resent]), [[1n, 0, 'success', false], [2n, 1, 'success', false], [3n, 2, 'success', false]]);
    assert.deepEqual(chain.prepareCalls, [{ batchId: 1n, fills: 3 }, { batchId: 2n, fills: 3 }, { batchId: 3n, fills: 1 }]);
    assert.deepEqual(namesInData(chain.batches.get(1n)!.data), ['1/1', '2/1', '1/2']);
    assert.deepEqual(namesInData(chain.batches.get(3n)!.data), ['1/4']);
    for (const row of await repo.allBatches()) {
      const onChain = chain.batches.get(row.id)!;
      assert.equal(row.txHash, onChain.hash);
      assert.equal(row.blockHash, onChain.blockHash);
      assert.equal(row.blockNumber, onChain.blockNumber);
      assert.deepEqual((await repo.broadcasts(row.id)).map((b) => b.hash), [onChain.hash]);
    }

    assert.deepEqual(brief(events), ['submitted:1', 'mined:1', 'confirmed:1', 'submitted:2', 'mined:2', 'confirmed:2', 'submitted:3', 'mined:3', 'confirmed:3']);
    const submitted = events.filter((e) => e.status === 'submitted');
    assert.deepEqual(submitted.map((e) => [e.txHash, e.nonce, e.fillCount]), chain.txs.map((t, i) => [t.hash, t.nonce, [3, 3, 1][i]]));
    assert.deepEqual(events.filter((e) => e.status === 'confirmed').map((e) => e.blockNumber), [1n, 2n, 3n]);
    assert.equal(await counter(metrics.fillsSettled), 7);
    assert.equal(await loop.step(signal), false);
  });

  // --- 2 ----------------------------------------------------------------------------------------------------------

  it('a fill the simulation excludes is FAILED with the reason and reported; the rest settles under the same id', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop } = start(chain, events);
    const [a, b, c, d] = [trade(1, 1), trade(1, 2), trade(1, 3), trade(2, 1)] as const;
    await store([a, b, c, d]);
    chain.scriptPrepare(blame('FillUnderfunded', b));

    await drain(loop);

    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '1/2': 'FAILED FillUnderfunded', '1/3': 'SETTLED@1', '2/1': 'SETTLED@2' });
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:2', '2:CONFIRMED:1']);
    const [failed] = await repo.failedFills();
    assert.equal(failed?.detail, 'scripted: fill 1 FillUnderfunded');
    assert.deepEqual(chain.prepareCalls, [{ batchId: 1n, fills: 3 }, { batchId: 2n, fills: 1 }]);
    assert.deepEqual(namesInData(chain.batches.get(1n)!.data), ['1/1', '1/3']);

    assert.deepEqual(brief(events), ['failed:1', 'submitted:1', 'mined:1', 'confirmed:1', 'submitted:2', 'mined:2', 'confirmed:2']);
    assert.deepEqual(events[0]?.failedFills, [{ marketId: 1, seq: 2, reason: 'FillUnderfunded', detail: 'scripted: fill 1 FillUnderfunded' }]);
    assert.equal(events[0].fillCount, 0);
    assert.equal(events[1]?.fillCount, 2);
  });

  it('fills the mined batch skipped (FillsSkipped: underfunded) are FAILED FillUnderfunded at confirmation; the rest settle', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop, metrics } = start(chain, events);
    const [a, b, c] = [trade(1, 1), trade(2, 1), trade(1, 2)] as const;
    await store([a, b, c]);
    chain.scriptSkipped(1n, [1]);

    await drain(loop);

    // The simulation kept everything (the contract no longer reverts on funds): the skip is read from the receipt.
    assert.deepEqual(namesInData(chain.batches.get(1n)!.data), ['1/1', '2/1', '1/2']);
    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '2/1': 'FAILED FillUnderfunded', '1/2': 'SETTLED@1' });
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3']);
    const failed = events.find((e) => e.status === 'failed');
    assert.deepEqual(failed?.failedFills.map((f) => [f.marketId, f.seq, f.reason]), [[2, 1, 'FillUnderfunded']]);
    assert.equal(await counter(metrics.fillsSettled), 2);
  });

  it('skipped indexes that do not map onto the stored batch stop confirmation instead of failing some trader fill', async () => {
    const chain = new ScriptedSettler();
    const { loop } = start(chain, []);
    await store([trade(1, 1), trade(2, 1), trade(1, 2)]);
    chain.scriptSkipped(1n, [1, 1]); // a log that names one fill twice: not what we encoded
    await assert.rejects(drain(loop), /skipped indexes 1,1/);
    // Nothing was blamed on a trader; the batch waits, mined but not confirmed.
    assert.deepEqual(await fillStates(), { '1/1': 'BATCHED@1', '2/1': 'BATCHED@1', '1/2': 'BATCHED@1' });
    assert.deepEqual(await batchesInDb(), ['1:MINED:3']);
  });

  // --- 3 ----------------------------------------------------------------------------------------------------------

  it('a mined revert re-prepares the same id without the offender, clears its broadcasts and re-sends it', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop } = start(chain, events);
    const [a, b, c] = [trade(1, 1), trade(2, 1), trade(1, 2)] as const;
    await store([a, b, c]);
    chain.scriptPrepare(keepAll);
    // The trader's on-chain cancel took effect between simulation and mining (the contract skips an underfunded
    // fill, but a cancelled order reverts the batch).
    chain.scriptPrepare(blame('CancelledOrder', b));
    chain.scriptBroadcast('reverted');

    assert.equal(await loop.step(signal), true); // batch 1 created
    assert.deepEqual(await batchesInDb(), ['1:CREATED:3']);
    assert.equal(await loop.step(signal), true); // sent, reverted on chain, re-prepared
    const reverted = chain.txs[0]!;
    assert.equal(reverted.status, 'reverted');
    assert.equal(chain.lastId, 0n);
    const row = await repo.batch(1n);
    assert.ok(row);
    assert.equal(row.status, 'CREATED');
    assert.equal(row.fillCount, 2);
    assert.equal(row.txHash, undefined);
    assert.deepEqual(namesInData(bytesToHex(row.data)), ['1/1', '1/2']);
    assert.deepEqual(await repo.broadcasts(1n), []);
    assert.deepEqual(await fillStates(), { '1/1': 'BATCHED@1', '2/1': 'FAILED CancelledOrder', '1/2': 'BATCHED@1' });

    await drain(loop);

    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:2']);
    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '2/1': 'FAILED CancelledOrder', '1/2': 'SETTLED@1' });
    assert.deepEqual(chain.prepareCalls, [{ batchId: 1n, fills: 3 }, { batchId: 1n, fills: 3 }]);
    // The reverted transaction used its nonce: the re-send is a new transaction with the next one.
    assert.deepEqual(chain.txs.map((t) => [t.batchId, t.nonce, t.status, t.resent]), [[1n, 0, 'reverted', false], [1n, 1, 'success', false]]);
    const settled = chain.batches.get(1n)!;
    assert.notEqual(settled.hash, reverted.hash);
    assert.deepEqual(namesInData(settled.data), ['1/1', '1/2']);
    assert.deepEqual((await repo.broadcasts(1n)).map((x) => x.hash), [settled.hash]);
    assert.equal((await repo.batch(1n))?.txHash, settled.hash);

    assert.deepEqual(brief(events), ['submitted:1', 'failed:1', 'submitted:1', 'mined:1', 'confirmed:1']);
    assert.deepEqual(events.map((e) => e.txHash), [reverted.hash, undefined, settled.hash, settled.hash, settled.hash]);
    assert.deepEqual(events[1]?.failedFills.map((f) => [f.marketId, f.seq, f.reason]), [[2, 1, 'CancelledOrder']]);
  });

  it('a mined revert after which every fill is excluded abandons the batch row; the next batch reuses its id', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop } = start(chain, events);
    const [a, b, c, d] = [trade(1, 1), trade(1, 2), trade(1, 3), trade(2, 1)] as const;
    await store([a, b, c, d]);
    chain.scriptPrepare(keepAll);
    chain.scriptPrepare(blame('OrderExpired', a, b, c));
    chain.scriptBroadcast('reverted');

    await loop.step(signal); // batch 1 created
    await loop.step(signal); // reverted, everything excluded: abandoned
    assert.deepEqual(await batchesInDb(), []);
    // The reverted broadcast stays on record (retired) under the id the next batch takes.
    assert.deepEqual((await repo.journal(1n)).map((j) => [j.hash, j.retired]), [[chain.txs[0]!.hash, true]]);
    assert.deepEqual(await repo.broadcasts(1n), []);
    assert.deepEqual(await fillStates(), { '1/1': 'FAILED OrderExpired', '1/2': 'FAILED OrderExpired', '1/3': 'FAILED OrderExpired', '2/1': 'PENDING' });

    await drain(loop);

    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:1']);
    assert.deepEqual(await fillStates(), { '1/1': 'FAILED OrderExpired', '1/2': 'FAILED OrderExpired', '1/3': 'FAILED OrderExpired', '2/1': 'SETTLED@1' });
    assert.deepEqual(chain.prepareCalls, [{ batchId: 1n, fills: 3 }, { batchId: 1n, fills: 3 }, { batchId: 1n, fills: 1 }]);
    assert.deepEqual(chain.txs.map((t) => [t.batchId, t.nonce, t.status, t.resent]), [[1n, 0, 'reverted', false], [1n, 1, 'success', false]]);
    assert.equal(chain.lastId, 1n);
    assert.deepEqual(namesInData(chain.batches.get(1n)!.data), ['2/1']);
    // Only the new batch's own broadcast is live under the reused id; the abandoned one's stays retired.
    assert.deepEqual((await repo.broadcasts(1n)).map((x) => x.hash), [chain.batches.get(1n)!.hash]);
    assert.deepEqual((await repo.journal(1n)).map((j) => j.retired), [true, false]);
    assert.deepEqual(brief(events), ['submitted:1', 'failed:1', 'submitted:1', 'mined:1', 'confirmed:1']);
    assert.deepEqual(events[1]?.failedFills.map((f) => name({ marketId: f.marketId, seq: BigInt(f.seq) })), ['1/1', '1/2', '1/3']);
    assert.equal(events[2]?.fillCount, 1);
  });

  // --- 4 ----------------------------------------------------------------------------------------------------------

  it('after a crash, a SUBMITTED batch the chain already settled is adopted (MINED, CONFIRMED) without a broadcast', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const first = start(chain, events);
    const trades = [trade(1, 1), trade(2, 1), trade(1, 2), trade(2, 2)];
    await store(trades);
    chain.scriptBroadcast('crash-after-mining');

    await first.loop.step(signal); // batch 1 created
    await assert.rejects(first.loop.step(signal), /scripted crash/); // journaled, sent, mined; the process dies
    const journaled = await repo.broadcasts(1n);
    assert.equal(journaled.length, 1);
    assert.equal((await repo.batch(1n))?.status, 'SUBMITTED');
    assert.equal(chain.lastId, 1n);
    assert.equal(chain.batches.get(1n)?.hash, journaled[0]?.hash);
    assert.equal(chain.broadcastCalls, 1);
    assert.deepEqual(brief(events), ['submitted:1']);

    const restarted = start(chain, events);
    assert.equal(await restarted.loop.step(signal), true); // adopted
    assert.equal((await repo.batch(1n))?.status, 'MINED');
    assert.equal(chain.broadcastCalls, 1, 'the adopted batch must not be handed to broadcast()');
    await drain(restarted.loop);

    const row = await repo.batch(1n);
    assert.ok(row);
    assert.equal(row.status, 'CONFIRMED');
    assert.equal(row.txHash, journaled[0]?.hash);
    assert.equal(row.blockHash, chain.batches.get(1n)?.blockHash);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:1']);
    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '2/1': 'SETTLED@1', '1/2': 'SETTLED@1', '2/2': 'SETTLED@2' });
    assert.equal(chain.broadcastCalls, 2); // batch 2 only
    assert.deepEqual(chain.txs.map((t) => [t.batchId, t.nonce, t.resent]), [[1n, 0, false], [2n, 1, false]]);
    assert.deepEqual(chain.prepareCalls.map((p) => p.batchId), [1n, 2n]);
    assert.deepEqual(brief(events), ['submitted:1', 'mined:1', 'confirmed:1', 'submitted:2', 'mined:2', 'confirmed:2']);
  });

  // --- 5 ----------------------------------------------------------------------------------------------------------

  it('a MINED batch whose block leaves the chain is SUBMITTED again, reported dropped, re-sent and confirmed', async () => {
    const chain = new ScriptedSettler();
    chain.confirmations = 2;
    const events: SettlementStatus[] = [];
    const { loop, metrics } = start(chain, events);
    await store([trade(1, 1), trade(2, 1), trade(1, 2)]);

    await drain(loop); // created, mined; the confirmation is one block away
    const mined = await repo.batch(1n);
    assert.ok(mined);
    assert.equal(mined.status, 'MINED');
    const first = chain.batches.get(1n)!;
    assert.equal(mined.blockHash, first.blockHash);

    chain.loseBatchesAfter(0n); // the block is reorged out before the confirmation depth
    assert.equal(await loop.step(signal), true);
    const dropped = await repo.batch(1n);
    assert.ok(dropped);
    assert.equal(dropped.status, 'SUBMITTED');
    assert.equal(dropped.blockHash, undefined);
    assert.equal(dropped.blockNumber, undefined);
    assert.equal(dropped.txHash, first.hash);
    assert.deepEqual(await fillStates(), { '1/1': 'BATCHED@1', '2/1': 'BATCHED@1', '1/2': 'BATCHED@1' });

    await drain(loop); // re-sent and mined again (pending its confirmation)
    assert.equal(chain.lastId, 1n);
    assert.equal((await repo.batch(1n))?.status, 'MINED');
    chain.mineEmptyBlocks(1);
    await drain(loop);

    const final = await repo.batch(1n);
    const again = chain.batches.get(1n)!;
    assert.ok(final);
    assert.equal(final.status, 'CONFIRMED');
    assert.equal(final.txHash, first.hash); // the journaled transaction, re-sent as it was
    assert.equal(final.blockHash, again.blockHash);
    assert.notEqual(again.blockHash, first.blockHash);
    assert.deepEqual(chain.txs.map((t) => [t.hash, t.nonce, t.resent]), [[first.hash, 0, false], [first.hash, 0, true]]);
    assert.deepEqual((await repo.broadcasts(1n)).map((b) => b.hash), [first.hash]);
    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '2/1': 'SETTLED@1', '1/2': 'SETTLED@1' });
    assert.deepEqual(brief(events), ['submitted:1', 'mined:1', 'dropped:1', 'mined:1', 'confirmed:1']);
    assert.equal(events[2]?.txHash, first.hash);
    assert.equal(await counter(metrics.reorgs), 1);
    assert.equal(await counter(metrics.fillsSettled), 3);
  });

  // --- 6 ----------------------------------------------------------------------------------------------------------

  it('CONFIRMED batches the chain lost are reopened and re-sent under their ids, in order; each fill settles once', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop } = start(chain, events);
    await store(SEVEN);
    await drain(loop);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:3', '3:CONFIRMED:1']);
    const before = new Map([...chain.batches].map(([id, b]) => [id, b]));
    const settledBefore = await fillStates();
    events.length = 0;

    chain.loseBatchesAfter(1n); // the node comes back from an older state
    // A trade arrives whose taker order is still on its way (it waits; it does not close a batch).
    const late = trade(2, 4);
    await store([late], { withoutOrders: [2n * 1_000_000n + late.taker.orderId] });

    assert.equal(await loop.step(signal), true); // notices the chain is behind: reopens 2 and 3
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CREATED:3', '3:CREATED:1']);
    assert.deepEqual(await repo.broadcasts(2n), []);
    assert.deepEqual(await repo.broadcasts(3n), []);
    assert.equal((await repo.fillCounts()).SETTLED, 3);

    await drain(loop);

    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:3', '3:CONFIRMED:1']);
    assert.equal(chain.lastId, 3n);
    assert.deepEqual(await fillStates(), { ...settledBefore, '2/4': 'PENDING' });
    const settled = await repo.settledFills();
    assert.equal(settled.length, 7);
    assert.equal(new Set(settled.map(name)).size, 7);
    // Re-sent in order, as new transactions carrying the same fills.
    assert.deepEqual(chain.txs.map((t) => [t.batchId, t.status]), [[1n, 'success'], [2n, 'success'], [3n, 'success'], [2n, 'success'], [3n, 'success']]);
    for (const id of [2n, 3n]) {
      const now = chain.batches.get(id)!;
      assert.notEqual(now.hash, before.get(id)!.hash);
      assert.equal(now.data, before.get(id)!.data);
      assert.equal((await repo.batch(id))?.txHash, now.hash);
      assert.deepEqual((await repo.broadcasts(id)).map((b) => b.hash), [now.hash]);
    }
    assert.equal(chain.batches.get(1n), before.get(1n));
    assert.deepEqual(brief(events), ['dropped:2', 'dropped:3', 'submitted:2', 'mined:2', 'confirmed:2', 'submitted:3', 'mined:3', 'confirmed:3']);

    // The late order arrives: the next batch is 4.
    await repo.saveOrders([late.taker]);
    await drain(loop);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:3', '3:CONFIRMED:1', '4:CONFIRMED:1']);
    assert.equal(chain.lastId, 4n);
    assert.deepEqual(await repo.fillCounts(), { PENDING: 0, BATCHED: 0, SETTLED: 8, FAILED: 0 });
  });

  it(
    'CONFIRMED batches the chain lost are reopened even when no fill is pending',
    async () => {
      const chain = new ScriptedSettler();
      const events: SettlementStatus[] = [];
      const { loop } = start(chain, events);
      await store(SEVEN);
      await drain(loop);
      chain.loseBatchesAfter(1n);

      await drain(loop);

      assert.equal(chain.lastId, 3n, 'the lost batches 2 and 3 were never re-sent');
      assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:3', '3:CONFIRMED:1']);
    },
  );

  it('a contract that has batches this database does not know: the next batch continues after them', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop } = start(chain, events);
    chain.lastId = 2n; // batches 1 and 2 were settled by someone else (another or a wiped database)
    await store([trade(2, 1)]);

    await drain(loop);

    assert.deepEqual(await batchesInDb(), ['3:CONFIRMED:1']);
    assert.deepEqual(await fillStates(), { '2/1': 'SETTLED@3' });
    assert.equal(chain.lastId, 3n);
    assert.deepEqual(brief(events), ['submitted:3', 'mined:3', 'confirmed:3']);
  });

  // --- 7 ----------------------------------------------------------------------------------------------------------

  it('a fill whose taker order never arrives past SIGNED_ORDER_WAIT_MS is an alert, not a failure: it waits, the others batch', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const [a, orphan, c, d] = [trade(1, 1), trade(1, 2), trade(1, 3), trade(2, 1)] as const;
    await store([a, orphan, c, d], { withoutOrders: [1_000_000n + orphan.taker.orderId] });

    // Within SIGNED_ORDER_WAIT_MS the fill waits and does not hold up the fills behind it.
    await drain(start(chain, events).loop);
    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '1/2': 'PENDING', '1/3': 'SETTLED@1', '2/1': 'SETTLED@1' });
    assert.deepEqual(brief(events), ['submitted:1', 'mined:1', 'confirmed:1']);

    // Past the wait (0 here) a missing signed order is the ingest's fault, not the trader's: the fill is not
    // failed, the health says so and a metric counts it; the fills around it batch as before.
    const e = trade(2, 2);
    await store([e]);
    events.length = 0;
    const late = start(chain, events, { signedOrderWaitMs: 0 });
    await drain(late.loop);

    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '1/2': 'PENDING', '1/3': 'SETTLED@1', '2/1': 'SETTLED@1', '2/2': 'SETTLED@2' });
    assert.deepEqual(await repo.failedFills(), []);
    assert.deepEqual(brief(events), ['submitted:2', 'mined:2', 'confirmed:2']);
    assert.equal(late.loop.health().fillsOverdueForOrders, 1);
    assert.equal(late.loop.health().status, 'degraded');
    assert.equal((await late.metrics.fillsOverdueForOrders.get()).values[0]?.value, 1);
    // The orphan never reached the chain.
    assert.deepEqual(chain.prepareCalls, [{ batchId: 1n, fills: 3 }, { batchId: 2n, fills: 1 }]);
    assert.deepEqual(namesInData(chain.batches.get(1n)!.data), ['1/1', '1/3', '2/1']);
    assert.deepEqual(namesInData(chain.batches.get(2n)!.data), ['2/2']);

    // The order arrives after all: the fill settles.
    await repo.saveOrders([orphan.taker]);
    await drain(late.loop);
    assert.equal((await fillStates())['1/2'], 'SETTLED@3');
    assert.equal(late.loop.health().fillsOverdueForOrders, 0);
  });

  it(
    'fills waiting for their signed orders do not hold up complete fills behind them',
    async () => {
      const chain = new ScriptedSettler();
      const waiting = [1, 2, 3, 4, 5, 6].map((s) => trade(1, s));
      const ready = trade(2, 1);
      await store([...waiting, ready], { withoutOrders: waiting.map((t) => 1_000_000n + t.taker.orderId) });

      await drain(start(chain, []).loop);

      assert.equal((await fillStates())['2/1'], 'SETTLED@1');
    },
  );
  // --- safety: what the chain says is ours only if it is, one writer, no wedge, bad records ------------------------

  it('a batch settled on chain under our id with other calldata (the operator key used elsewhere) halts the loop; nothing is adopted', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop, metrics } = start(chain, events);
    const [a, b, c] = [trade(1, 1), trade(2, 1), trade(1, 2)] as const;
    await store([a, b, c]);
    assert.equal(await loop.step(signal), true); // batch 1 CREATED, not yet broadcast
    assert.deepEqual(await batchesInDb(), ['1:CREATED:3']);
    // Someone with the operator key settles batch 1 first, with other fills.
    const ours = bytesToHex((await repo.batch(1n))!.data);
    const foreignData: Hex = `0x${ours.slice(2, -2)}${ours.endsWith('ff') ? '00' : 'ff'}`;
    const foreign = chain.settleForeign(1n, foreignData);

    await assert.rejects(loop.step(signal), (err: unknown) => err instanceof SettlementHalt && err.code === 'FOREIGN_BATCH' && err.message.includes(foreign.hash));

    // Nothing was taken as ours: the batch is not MINED, its fills are not SETTLED, nothing was broadcast.
    assert.deepEqual(await batchesInDb(), ['1:CREATED:3']);
    assert.deepEqual(await fillStates(), { '1/1': 'BATCHED@1', '2/1': 'BATCHED@1', '1/2': 'BATCHED@1' });
    assert.equal(chain.broadcastCalls, 0);
    assert.deepEqual(brief(events), []);
    const health = loop.health();
    assert.equal(health.status, 'halted');
    assert.equal(health.halt?.code, 'FOREIGN_BATCH');
    assert.equal((await metrics.halted.get()).values.find((v) => v.labels.reason === 'FOREIGN_BATCH')?.value, 1);
    assert.equal(await counter(metrics.foreignBatches), 1);
    // It stays halted: later steps refuse at once.
    await assert.rejects(loop.step(signal), (err: unknown) => err instanceof SettlementHalt && err.code === 'FOREIGN_BATCH');
    assert.equal(chain.broadcastCalls, 0);
  });

  it('our own batch found on chain after a crash is adopted because its calldata is ours (the same check passes)', async () => {
    const chain = new ScriptedSettler();
    const { loop } = start(chain, []);
    await store([trade(1, 1)]);
    assert.equal(await loop.step(signal), true);
    const data = bytesToHex((await repo.batch(1n))!.data);
    chain.settleForeign(1n, data); // the same calldata, sent by a process that died before recording it
    await drain(loop);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:1']);
    assert.equal(loop.health().status, 'ok');
  });

  it('batches on chain after ours that this database never made halt the loop (UNKNOWN_BATCHES_ON_CHAIN)', async () => {
    const chain = new ScriptedSettler();
    const { loop } = start(chain, []);
    await store([trade(1, 1)]);
    await drain(loop);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:1']);
    chain.settleForeign(2n, `0x${'00'.repeat(40)}`);
    await store([trade(1, 2)]);

    await assert.rejects(loop.step(signal), (err: unknown) => err instanceof SettlementHalt && err.code === 'UNKNOWN_BATCHES_ON_CHAIN');
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:1']);
    assert.equal((await fillStates())['1/2'], 'PENDING');
  });

  it('a process that lost the writer lease broadcasts nothing and halts (SETTLEMENT_WRITER_LOST)', async () => {
    const chain = new ScriptedSettler();
    let held = true;
    const lease = {
      assertHeld: (): Promise<void> => (held ? Promise.resolve() : Promise.reject(new PersistenceError('SETTLEMENT_WRITER_LOST', 'the writer session no longer holds the lock'))),
    };
    const { loop } = start(chain, [], {}, lease);
    await store([trade(1, 1), trade(1, 2)]);
    assert.equal(await loop.step(signal), true); // batch 1 CREATED (no broadcast yet)
    held = false; // e.g. its database session was cut: another instance may hold the lock now

    await assert.rejects(loop.step(signal), (err: unknown) => err instanceof SettlementHalt && err.code === 'SETTLEMENT_WRITER_LOST');
    assert.equal(chain.txs.length, 0);
    assert.deepEqual(await repo.broadcasts(1n), []);
    assert.deepEqual(await batchesInDb(), ['1:CREATED:2']);
    assert.equal(loop.health().halt?.code, 'SETTLEMENT_WRITER_LOST');
  });

  it('the chain loses a CONFIRMED batch while the next is CREATED: the lost one is reopened first, both settle (no wedge)', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop } = start(chain, events);
    await store([trade(1, 1), trade(2, 1), trade(1, 2)]);
    await drain(loop);
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3']);
    await store([trade(2, 2)]);
    assert.equal(await loop.step(signal), true); // batch 2 CREATED
    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CREATED:1']);
    chain.loseBatchesAfter(0n); // the node comes back without batch 1
    events.length = 0;

    await drain(loop);

    assert.deepEqual(await batchesInDb(), ['1:CONFIRMED:3', '2:CONFIRMED:1']);
    assert.equal(chain.lastId, 2n);
    assert.deepEqual(await repo.fillCounts(), { PENDING: 0, BATCHED: 0, SETTLED: 4, FAILED: 0 });
    assert.deepEqual(brief(events), ['dropped:1', 'submitted:1', 'mined:1', 'confirmed:1', 'submitted:2', 'mined:2', 'confirmed:2']);
    // The first broadcast of batch 1 is kept in the journal, retired; the re-send is the live entry.
    const journal = await repo.journal(1n);
    assert.equal(journal.length, 2);
    assert.deepEqual(journal.map((j) => j.retired), [true, false]);
  });

  it('a trade whose signed orders belong to other accounts or sides is FAILED SIGNED_ORDER_MISMATCH; the rest settles', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop, metrics } = start(chain, events, { maxFills: 10 });
    const honest = [trade(1, 1), trade(2, 1)];
    // Order id reused: the stored maker order of 1/2 is another account's (signed by another trader).
    const stolen = trade(1, 2);
    const reused = { ...stolen, maker: { ...stolen.maker, accountId: 99n } };
    // The taker's signed order sells while the trade says the taker bought.
    const flipped = trade(2, 3, 'BUY');
    const contradicting = { ...flipped, taker: { ...flipped.taker, isBuy: false } };
    await store([honest[0]!, reused, contradicting, honest[1]!]);

    await drain(loop);

    assert.deepEqual(await fillStates(), {
      '1/1': 'SETTLED@1',
      '1/2': 'FAILED SIGNED_ORDER_MISMATCH',
      '2/3': 'FAILED SIGNED_ORDER_MISMATCH',
      '2/1': 'SETTLED@1',
    });
    const failed = await repo.failedFills();
    assert.match(failed[0]?.detail ?? '', /maker order 4 is signed for account 99, the trade's maker is account 1004/);
    assert.match(failed[1]?.detail ?? '', /the taker buys but its signed order sells/);
    assert.deepEqual(namesInData(chain.batches.get(1n)!.data), ['1/1', '2/1']);
    assert.deepEqual(events[0]?.failedFills.map((f) => [f.marketId, f.seq, f.reason]), [[1, 2, 'SIGNED_ORDER_MISMATCH'], [2, 3, 'SIGNED_ORDER_MISMATCH']]);
    assert.equal(await counter(metrics.badRecords), 2);
  });

  it('a fill refused for a system reason (undecodable revert) stays PENDING and is retried, never FAILED; the rest settles', async () => {
    const chain = new ScriptedSettler();
    const events: SettlementStatus[] = [];
    const { loop, metrics } = start(chain, events);
    const [a, b, c] = [trade(1, 1), trade(2, 1), trade(1, 2)] as const;
    await store([a, b, c]);
    for (let i = 0; i < 5; i++) chain.scriptPrepare(blame('UNDECODABLE_REVERT', b));

    await drain(loop);

    // The first prepare left b out (batch 1: a, c); later ones tried b alone and left it out again.
    assert.deepEqual(await fillStates(), { '1/1': 'SETTLED@1', '2/1': 'PENDING', '1/2': 'SETTLED@1' });
    assert.deepEqual(await repo.failedFills(), []);
    assert.ok(events.every((e) => e.status !== 'failed'));
    assert.ok((await counter(metrics.systemFaults)) >= 2);
    assert.equal(loop.health().lastSystemFault?.reason, 'UNDECODABLE_REVERT');
    assert.equal(loop.health().status, 'degraded');
    // Once the fault is gone the fill settles.
    chain.clearPrepareScript();
    await drain(loop);
    assert.equal((await fillStates())['2/1'], 'SETTLED@2');
  });

  it('a trader fault found in simulation still fails the fill for good (FillUnderfunded, PriceLimitExceeded)', async () => {
    const chain = new ScriptedSettler();
    const { loop } = start(chain, []);
    const [a, b, c] = [trade(1, 1), trade(2, 1), trade(1, 2)] as const;
    await store([a, b, c]);
    chain.scriptPrepare((f) => (f.baseAmount === lotsOf(a.key) * LOT ? 'FillUnderfunded' : f.baseAmount === lotsOf(c.key) * LOT ? 'PriceLimitExceeded' : undefined));
    await drain(loop);
    assert.deepEqual(await fillStates(), { '1/1': 'FAILED FillUnderfunded', '2/1': 'SETTLED@1', '1/2': 'FAILED PriceLimitExceeded' });
  });

  it('health() reports the real state (/ready shows it): last success and consecutive failures of a failing step', async () => {
    const chain = new ScriptedSettler();
    const { loop } = start(chain, []);
    assert.equal(loop.health().lastSuccessAtMs, undefined);
    await drain(loop);
    const ok = loop.health();
    assert.equal(ok.status, 'ok');
    assert.ok(ok.lastSuccessAtMs !== undefined);
    const lastBatchId = chain.lastBatchId.bind(chain);
    chain.lastBatchId = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8545'));
    await assert.rejects(loop.step(signal), /ECONNREFUSED/);
    await assert.rejects(loop.step(signal), /ECONNREFUSED/);
    const failing = loop.health();
    assert.equal(failing.status, 'degraded');
    assert.equal(failing.consecutiveFailures, 2);
    assert.match(failing.lastError ?? '', /ECONNREFUSED/);
    assert.equal(failing.lastSuccessAtMs, ok.lastSuccessAtMs);
    chain.lastBatchId = lastBatchId;
    await drain(loop);
    assert.equal(loop.health().consecutiveFailures, 0);
    assert.equal(loop.health().status, 'ok');
  });
});
