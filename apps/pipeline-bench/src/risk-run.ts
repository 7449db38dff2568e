// The funds path, the risk stage included: requests -> account shards (RiskShards) -> orders -> matching engine
// -> account events -> account shards, on the embedded log and on Kafka, compared in the same run with the
// matching engine alone on the same orders (a second engine group on a copy of the orders the shards forwarded).
//
// Both services run in this process (one transport client each), unpaced: all requests are appended, then the
// clock runs until every input of both groups is committed. Verified, or the phase reports its problems: each
// shard's whole journal re-run in one process ends with the live shard's state hash and forwards exactly the
// committed orders and signed orders (byte-equal multisets); each orders partition replayed by a fresh
// PartitionEngine yields exactly the committed market events; conservation and holds on every shard.
import {
  defaultMarkets,
  encodeChainEventBatch,
  encodeRiskRequestBatch,
  MarketCatalogue,
  type ChainEvent,
  type ClientRequest,
} from '@parallax/contracts';
import { PartitionEngine } from '@parallax/matching';
import { startMatchingEngine, type MatchingEngineConfig } from '@parallax/matching-engine';
import { createLogger } from '@parallax/observability';
import { Prng, TimeInForce } from '@parallax/order-book';
import { shardForAccount } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import { TransportError, type OutgoingMessage, type Transport } from '@parallax/transport';
import { RiskShards, type RiskShardsConfig } from '@parallax/risk-service';
import { drained, readPartitions, rerunJournal, valueMultiset } from '@parallax/risk-service/testing';
import { machineBusySec, procCpuSec } from './cpu.js';
import { bucketsSince, histogramBuckets, quantileMs } from './engine-metrics.js';
import { pct } from './result.js';

const REQUESTS_PER_MESSAGE = 100;

export interface RiskStageOptions {
  readonly orders: number;
  readonly accounts: number;
  readonly markets: number;
  readonly shards: number;
  readonly partitions: number;
  /** The broker JVM's pid (Kafka, local broker), for its CPU share; null when unknown or embedded. */
  readonly brokerPid: number | null;
  /** Paced phases after the unpaced one: requests/s each, sent for `pacedSec` seconds. */
  readonly pacedRates: readonly number[];
  readonly pacedSec: number;
}

/** One paced phase: requests sent at `rate` for a while, the latency of what they caused. */
export interface PacedRiskResult {
  readonly rate: number;
  readonly requests: number;
  /** Requests/s the sender achieved (it falls behind when the machine cannot keep up). */
  readonly sentPerSec: number;
  /** From the first send until every input of both groups was committed. */
  readonly drainedSec: number;
  /** Request message appended -> its orders' events committed (the engine's histogram over this phase only): bucket upper bounds, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface RiskStageResult {
  readonly transport: string;
  readonly requests: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly trades: number;
  readonly withRiskSec: number;
  readonly engineOnlySec: number;
  /** CPU seconds (user + system) this process spent in each phase: robust to a shared machine's load. */
  readonly withRiskCpuSec: number;
  readonly engineOnlyCpuSec: number;
  /** Request message appended -> its orders' events committed by the engine (the engine's histogram, per command batch): bucket upper bounds, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Share of one core over the with-risk phase: this process (risk shards + engine), the broker, the whole machine. */
  readonly processCores: number;
  readonly brokerCores: number;
  readonly machineCores: number;
  readonly cores: number;
  /** What bounds the with-risk rate (from the shares above). */
  readonly bottleneck: string;
  /** The paced phases (absent in results saved before they existed). */
  readonly paced?: readonly PacedRiskResult[];
  /** Empty when every check passed. */
  readonly problems: string[];
}

const LATENCY = 'parallax_engine_end_to_end_latency_seconds';

const cpuSec = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitDrained(t: Transport, pairs: readonly (readonly [string, string])[], stopped: Record<string, Promise<unknown>>, what: string): Promise<void> {
  let failure: Error | undefined;
  for (const [name, s] of Object.entries(stopped)) {
    s.catch((e: unknown) => {
      failure ??= new Error(`${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    });
  }
  for (const deadline = Date.now() + 900_000; !(await drained(t, pairs)); ) {
    if (failure !== undefined) throw new Error(`${what}: a service stopped: ${failure.message}`);
    if (Date.now() > deadline) throw new Error(`${what}: did not drain`);
    await sleep(25);
  }
}

/** Starts a service, retrying while a just-created topic is not yet in the broker's metadata. */
async function retryingUnknownTopic<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof TransportError && err.code === 'UNKNOWN_TOPIC') || attempt >= 10) throw err;
      await sleep(500);
    }
  }
}

async function sendAll(t: Transport, topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
  const p = await t.producer();
  try {
    for (let i = 0; i < messages.length; i += 200) await p.send(topic, messages.slice(i, i + 200));
  } finally {
    await p.close();
  }
}

/** Runs the funds path once on `t`; a failed check is a problem of the result, a failed service throws. */
export async function runRiskStage(t: Transport, o: RiskStageOptions, run: string, cores: number): Promise<RiskStageResult> {
  const problems: string[] = [];
  const markets = Array.from({ length: o.markets }, (_, i) => testMarket(i + 1, { maker: -50, taker: 300 }));
  const catalogue = new MarketCatalogue(defaultMarkets(o.markets));
  const risk: RiskShardsConfig = {
    groupId: `${run}-risk`,
    inputs: { requests: `${run}.requests`, chainEvents: `${run}.chain-events`, accountEvents: `${run}.account-events` },
    state: { journal: `${run}.risk-journal`, snapshots: `${run}.risk-snapshots` },
    ordersTopic: `${run}.orders`,
    signedOrdersTopic: `${run}.signed-orders`,
    deadLettersTopic: `${run}.dead-letters`,
    shards: o.shards,
    marketPartitions: o.partitions,
    markets,
    maxBatchMessages: 500,
  };
  const engineConfig = (suffix: string, orders: string, accountEvents: boolean): MatchingEngineConfig => ({
    kafkaBrokers: undefined,
    kafkaClientId: `${run}${suffix}`,
    kafkaConsumer: {},
    groupId: `${run}${suffix}-engine`,
    instanceId: run,
    topics: { orders, marketEvents: `${run}${suffix}.market-events`, snapshots: `${run}${suffix}.snapshots`, deadLetters: `${run}${suffix}.dead-letters` },
    partitions: o.partitions,
    catalogue,
    snapshotEveryMessages: 50_000,
    snapshotEveryMs: 60_000,
    maxBatchMessages: 500,
    concurrentPartitions: o.partitions,
    ensureTopics: true,
    httpHost: '127.0.0.1',
    httpPort: 0,
    ordersRetentionMs: 3_600_000_000,
    logLevel: 'warn',
    logFormat: 'json',
    ...(accountEvents ? { accountEvents: { topic: risk.inputs.accountEvents, shards: o.shards } } : {}),
  });
  const logger = createLogger('risk-pipeline-bench', 'warn');
  const shards = new RiskShards(risk, t);
  await retryingUnknownTopic(() => shards.start());
  const eng = engineConfig('', risk.ordersTopic, true);
  const engine = await retryingUnknownTopic(() => startMatchingEngine(eng, t, { logger }));
  const riskPairs = [risk.inputs.requests, risk.inputs.chainEvents, risk.inputs.accountEvents].map((topic) => [topic, risk.groupId] as const);
  const pairs = [...riskPairs, [risk.ordersTopic, eng.groupId] as const];
  try {
    // Funding (untimed).
    const rnd = new Prng(20261202);
    const accounts = Array.from({ length: o.accounts }, (_, i) => accountAddress(i + 1));
    const deposits: OutgoingMessage[] = [];
    for (const a of accounts) {
      const events: ChainEvent[] = [{ type: 'deposit', account: a, token: QUOTE, amount: 10n ** 15n }, ...markets.map((m) => ({ type: 'deposit', account: a, token: m.baseToken, amount: 10n ** 24n }) as const)];
      deposits.push({ key: a, partition: shardForAccount(a, o.shards), value: encodeChainEventBatch({ sentAtMs: 0, events }) });
    }
    await sendAll(t, risk.inputs.chainEvents, deposits);
    await waitDrained(t, pairs, { risk: shards.stopped, engine: engine.stopped }, 'deposits');

    // The requests (generated untimed): a random account, market, side and price around 100 ticks; one in ten
    // accounts never deposited (refused INSUFFICIENT_FUNDS).
    const nonces = new Map<string, bigint>();
    const nextRequest = (i: number): ClientRequest => {
      const a = rnd.nextFloat() < 0.1 ? accountAddress(o.accounts + 1 + (i % 100)) : accounts[Math.floor(rnd.nextFloat() * accounts.length)]!;
      const nonce = (nonces.get(a) ?? 0n) + 1n;
      nonces.set(a, nonce);
      const m = markets[Math.floor(rnd.nextFloat() * markets.length)]!;
      return placeRequest(a, m, { ts: 1_000 + i, isBuy: rnd.nextFloat() < 0.5, priceTicks: 95 + Math.floor(rnd.nextFloat() * 11), lots: 1 + Math.floor(rnd.nextFloat() * 10), nonce, tif: rnd.nextFloat() < 0.3 ? TimeInForce.IOC : TimeInForce.GTC });
    };
    // Request messages, shards taking turns; stamped (sentAtMs) when appended.
    const requestChunks = (requests: readonly ClientRequest[]): { shard: number; requests: ClientRequest[] }[] => {
      const byShard: ClientRequest[][] = Array.from({ length: o.shards }, () => []);
      for (const r of requests) byShard[shardForAccount(r.account, o.shards)]!.push(r);
      const out: { shard: number; requests: ClientRequest[] }[] = [];
      for (let i = 0; ; i += REQUESTS_PER_MESSAGE) {
        const round = byShard.map((rs, shard) => ({ shard, requests: rs.slice(i, i + REQUESTS_PER_MESSAGE) })).filter((c) => c.requests.length > 0);
        if (round.length === 0) break;
        out.push(...round);
      }
      return out;
    };
    const chunks = requestChunks(Array.from({ length: o.orders }, (_, i) => nextRequest(i)));
    const stamp = (c: { shard: number; requests: ClientRequest[] }): OutgoingMessage => ({ key: String(c.shard), partition: c.shard, value: encodeRiskRequestBatch({ sentAtMs: Date.now(), requests: c.requests }) });
    const rejectedBefore = [...shards.counters.rejected.values()].reduce((a, b) => a + b, 0);
    const acceptedBefore = shards.counters.accepted;
    const latency0 = histogramBuckets(await (await fetch(`${engine.url}/metrics`)).text(), LATENCY);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const broker0 = o.brokerPid === null ? NaN : procCpuSec(o.brokerPid);
    const machine0 = machineBusySec();
    await sendAll(t, risk.inputs.requests, chunks.map(stamp));
    await waitDrained(t, pairs, { risk: shards.stopped, engine: engine.stopped }, 'requests');
    const withRiskSec = (performance.now() - t0) / 1000;
    const withRiskCpuSec = cpuSec(c0);
    const processCores = withRiskCpuSec / withRiskSec;
    const brokerCores = (procCpuSec(o.brokerPid ?? -1) - broker0) / withRiskSec;
    const machineCores = (machineBusySec() - machine0) / withRiskSec;
    const accepted = shards.counters.accepted - acceptedBefore;
    const latency1 = histogramBuckets(await (await fetch(`${engine.url}/metrics`)).text(), LATENCY);
    const p50Ms = quantileMs(bucketsSince(latency1, latency0), 0.5);
    const p99Ms = quantileMs(bucketsSince(latency1, latency0), 0.99);
    const rejected = [...shards.counters.rejected.values()].reduce((a, b) => a + b, 0) - rejectedBefore;
    // The engine alone (below) consumes what the unpaced phase forwarded: the orders up to here.
    const unpacedOrdersEnd = await t.endOffsets(risk.ordersTopic);

    // Paced phases: the same kind of requests at a fixed rate, sent as they fall due, 100 to a message.
    const paced: PacedRiskResult[] = [];
    let sentTotal = o.orders;
    for (const rate of o.pacedRates) {
      const n = Math.max(1, Math.round(rate * o.pacedSec));
      const phaseChunks = requestChunks(Array.from({ length: n }, (_, i) => nextRequest(sentTotal + i)));
      sentTotal += n;
      const before = histogramBuckets(await (await fetch(`${engine.url}/metrics`)).text(), LATENCY);
      const producer = await t.producer();
      const start = performance.now();
      let sent = 0;
      try {
        for (let next = 0; next < phaseChunks.length; ) {
          const due = (rate * (performance.now() - start)) / 1000;
          const batch: OutgoingMessage[] = [];
          while (next < phaseChunks.length && sent < due) {
            const c = phaseChunks[next++]!;
            batch.push(stamp(c));
            sent += c.requests.length;
          }
          if (batch.length > 0) await producer.send(risk.inputs.requests, batch);
          else await sleep(2);
        }
      } finally {
        await producer.close();
      }
      const sendingSec = (performance.now() - start) / 1000;
      await waitDrained(t, pairs, { risk: shards.stopped, engine: engine.stopped }, `paced ${rate}/s`);
      const drainedSec = (performance.now() - start) / 1000;
      const phase = bucketsSince(histogramBuckets(await (await fetch(`${engine.url}/metrics`)).text(), LATENCY), before);
      paced.push({ rate, requests: n, sentPerSec: n / sendingSec, drainedSec, p50Ms: quantileMs(phase, 0.5), p99Ms: quantileMs(phase, 0.99) });
    }

    // Verification.
    const orders = await readPartitions(t, risk.ordersTopic, o.partitions);
    const signed = await readPartitions(t, risk.signedOrdersTopic, o.partitions);
    const reruns = [];
    for (let s = 0; s < o.shards; s++) {
      const r = await rerunJournal(t, risk, s);
      const live = shards.shard(s)!.engine;
      if (r.shard.engine.stateHash() !== live.stateHash()) problems.push(`shard ${s}: the journal re-run does not reproduce the live state`);
      for (const b of live.checkInvariants()) problems.push(`shard ${s}: ${b}`);
      reruns.push(r);
    }
    if (valueMultiset(reruns.flatMap((r) => r.orders)).join() !== valueMultiset(orders.flat()).join()) problems.push('committed orders differ from the journal re-run');
    if (valueMultiset(reruns.flatMap((r) => r.signedOrders)).join() !== valueMultiset(signed.flat()).join()) problems.push('committed signed orders differ from the journal re-run');
    const acceptedAll = shards.counters.accepted - acceptedBefore;
    const rejectedAll = [...shards.counters.rejected.values()].reduce((a, b) => a + b, 0) - rejectedBefore;
    if (acceptedAll + rejectedAll !== sentTotal) problems.push(`${acceptedAll} accepted + ${rejectedAll} refused != ${sentTotal} requests`);
    let trades = 0;
    const events = await readPartitions(t, eng.topics.marketEvents, o.partitions);
    for (let p = 0; p < o.partitions; p++) {
      const replay = new PartitionEngine({ partition: p, partitions: o.partitions, catalogue, accountShards: o.shards }).process(orders[p]!);
      const want = replay.outputs.map((m) => Buffer.from(m.value).toString('hex'));
      const got = events[p]!.map((m) => Buffer.from(m.value).toString('hex'));
      if (want.join() !== got.join()) problems.push(`market events of partition ${p} differ from a replay of its orders`);
      trades += replay.stats.applied.reduce((n, a) => n + a.events, 0);
    }

    // The engine alone on the same orders, in the same run: a second engine group on a copy of the orders.
    const copy = `${run}.orders-copy`;
    // The engine creates its orders topic (log-append time, as every orders topic must be).
    const alone = engineConfig('-alone', copy, false);
    const engine2 = await retryingUnknownTopic(() => startMatchingEngine(alone, t, { logger }));
    try {
      const msgs = orders.flatMap((part, p) => part.filter((m) => m.offset < (unpacedOrdersEnd.get(p) ?? 0)).map((m) => ({ key: m.key ?? '', partition: p, value: m.value })));
      const t1 = performance.now();
      const c1 = process.cpuUsage();
      await sendAll(t, copy, msgs);
      await waitDrained(t, [[copy, alone.groupId]], { engine: engine2.stopped }, 'engine alone');
      const engineOnlySec = (performance.now() - t1) / 1000;
      const engineOnlyCpuSec = cpuSec(c1);
      const bottleneck = boundBy(processCores, brokerCores, machineCores, cores);
      return { transport: t.kind, requests: o.orders, accepted, rejected, trades, withRiskSec, engineOnlySec, withRiskCpuSec, engineOnlyCpuSec, p50Ms, p99Ms, processCores, brokerCores, machineCores, cores, bottleneck, paced, problems };
    } finally {
      await engine2.close();
    }
  } finally {
    await shards.close();
    await engine.close();
  }
}

/** What bounds the with-risk rate, from the CPU shares measured over that phase. */
export function boundBy(processCores: number, brokerCores: number, machineCores: number, cores: number): string {
  if (processCores >= 0.85) {
    return `one Node thread: the risk shards and the engine share this process's main thread (${pct(processCores)} of a core): codecs, the risk engine, matching and the transport client all run on it`;
  }
  if (Number.isFinite(machineCores) && machineCores >= 0.9 * cores) {
    return `machine CPU saturated: ${pct(machineCores)} of ${cores * 100}% busy (this process ${pct(processCores)}${Number.isFinite(brokerCores) ? `, broker ${pct(brokerCores)}` : ''}, the rest other users)`;
  }
  return `waiting, not CPU: this process ${pct(processCores)} of a core${Number.isFinite(brokerCores) ? `, broker ${pct(brokerCores)}` : ''}, machine ${pct(machineCores)} of ${cores * 100}%: serial transaction commits and fetch round trips of the two consumer groups`;
}
