// The funds path end to end: requests -> account shards (RiskShards) -> orders -> matching engine ->
// account events -> account shards, on the embedded log and (with KAFKA_BROKERS) on Kafka, compared in the
// same run with the matching engine alone on the same orders.
//
//   npm run bench:risk-pipeline                    embedded log, then Kafka if KAFKA_BROKERS is set
//   node apps/risk/dist/bench/risk-pipeline.bench.js --smoke      small, checks only
//   options: --orders N (default 100000) --accounts N --markets N --shards S --partitions P --no-docs
//            --rate N   append the requests paced at N per second instead of all at once
//
// Both services run in this process (one transport client each), unpaced: all requests are appended, then
// the clock runs until every input of both groups is committed. Verified, or the run fails: each shard's
// whole journal re-run in one process ends with the live shard's state hash and forwards exactly the
// committed orders and signed orders (byte-equal multisets); each orders partition replayed by a fresh
// PartitionEngine yields exactly the committed market events; conservation and holds on every shard.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
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
import { accountAddress, placeRequest, QUOTE, shardForAccount, testMarket } from '@parallax/risk';
import { createEmbeddedTransport, createKafkaTransport, TransportError, type ConsumedMessage, type OutgoingMessage, type Transport } from '@parallax/transport';
import { RiskShards, type RiskShardsConfig } from '../service/risk-shards.js';
import { drained, rerunJournal, valueMultiset } from '../testing/journal-audit.js';

const REGION_START = '<!-- bench:risk-pipeline:start -->';
const REGION_END = '<!-- bench:risk-pipeline:end -->';
const DOCS = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
const REQUESTS_PER_MESSAGE = 100;

interface Options {
  orders: number;
  accounts: number;
  markets: number;
  shards: number;
  partitions: number;
  docs: boolean;
  /** Requests per second to pace at; null = unpaced. */
  rate: number | null;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { orders: 100_000, accounts: 2_000, markets: 8, shards: 4, partitions: 4, docs: true, rate: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number((argv[++i] ?? '').replace(/[_,]/g, ''));
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--orders') o.orders = num();
    else if (a === '--accounts') o.accounts = num();
    else if (a === '--markets') o.markets = num();
    else if (a === '--shards') o.shards = num();
    else if (a === '--partitions') o.partitions = num();
    else if (a === '--no-docs') o.docs = false;
    else if (a === '--rate') o.rate = num();
    else if (a === '--smoke') {
      o.orders = 5_000;
      o.accounts = 200;
      o.docs = false;
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

interface Result {
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
}

/** The q-quantile of a Prometheus histogram as the upper bound of its bucket (ms). */
function quantileMs(metrics: string, name: string, q: number): number {
  const buckets: [number, number][] = [];
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    buckets.push([le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1))]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  for (const [le, n] of buckets) if (n >= q * total) return le * 1000;
  return Infinity;
}

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

async function readPartitions(t: Transport, topic: string, partitions: number): Promise<ConsumedMessage[][]> {
  const out: ConsumedMessage[][] = [];
  for (let p = 0; p < partitions; p++) {
    const part: ConsumedMessage[] = [];
    for await (const chunk of t.read(topic, p, 0)) part.push(...chunk);
    out.push(part);
  }
  return out;
}

async function sendAll(t: Transport, topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
  const p = await t.producer();
  try {
    for (let i = 0; i < messages.length; i += 200) await p.send(topic, messages.slice(i, i + 200));
  } finally {
    await p.close();
  }
}

async function scenario(t: Transport, o: Options, run: string): Promise<Result> {
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
    const byShard: ClientRequest[][] = Array.from({ length: o.shards }, () => []);
    const nonces = new Map<string, bigint>();
    for (let i = 0; i < o.orders; i++) {
      const a = rnd.nextFloat() < 0.1 ? accountAddress(o.accounts + 1 + (i % 100)) : accounts[Math.floor(rnd.nextFloat() * accounts.length)]!;
      const nonce = (nonces.get(a) ?? 0n) + 1n;
      nonces.set(a, nonce);
      const m = markets[Math.floor(rnd.nextFloat() * markets.length)]!;
      const r = placeRequest(a, m, { ts: 1_000 + i, isBuy: rnd.nextFloat() < 0.5, priceTicks: 95 + Math.floor(rnd.nextFloat() * 11), lots: 1 + Math.floor(rnd.nextFloat() * 10), nonce, tif: rnd.nextFloat() < 0.3 ? TimeInForce.IOC : TimeInForce.GTC });
      byShard[shardForAccount(a, o.shards)]!.push(r);
    }
    // Request messages, shards taking turns; stamped (sentAtMs) when appended.
    const chunks: { shard: number; requests: ClientRequest[] }[] = [];
    for (let i = 0; ; i += REQUESTS_PER_MESSAGE) {
      const round = byShard.map((rs, shard) => ({ shard, requests: rs.slice(i, i + REQUESTS_PER_MESSAGE) })).filter((c) => c.requests.length > 0);
      if (round.length === 0) break;
      chunks.push(...round);
    }
    const stamp = (c: { shard: number; requests: ClientRequest[] }): OutgoingMessage => ({ key: String(c.shard), partition: c.shard, value: encodeRiskRequestBatch({ sentAtMs: Date.now(), requests: c.requests }) });
    const acceptedBefore = shards.counters.accepted;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    if (o.rate === null) await sendAll(t, risk.inputs.requests, chunks.map(stamp));
    else {
      const p = await t.producer();
      try {
        let sent = 0;
        let next = 0;
        while (next < chunks.length) {
          const due = ((performance.now() - t0) / 1000) * o.rate;
          const batch: OutgoingMessage[] = [];
          while (next < chunks.length && sent + chunks[next]!.requests.length <= due) {
            sent += chunks[next]!.requests.length;
            batch.push(stamp(chunks[next++]!));
          }
          if (batch.length > 0) await p.send(risk.inputs.requests, batch);
          else await sleep(2);
        }
      } finally {
        await p.close();
      }
    }
    await waitDrained(t, pairs, { risk: shards.stopped, engine: engine.stopped }, 'requests');
    const withRiskSec = (performance.now() - t0) / 1000;
    const withRiskCpuSec = cpuSec(c0);
    const accepted = shards.counters.accepted - acceptedBefore;
    const engineMetrics = await (await fetch(`${engine.url}/metrics`)).text();
    const p50Ms = quantileMs(engineMetrics, 'parallax_engine_end_to_end_latency_seconds', 0.5);
    const p99Ms = quantileMs(engineMetrics, 'parallax_engine_end_to_end_latency_seconds', 0.99);
    const rejected = [...shards.counters.rejected.values()].reduce((a, b) => a + b, 0);

    // Verification.
    const orders = await readPartitions(t, risk.ordersTopic, o.partitions);
    const signed = await readPartitions(t, risk.signedOrdersTopic, o.partitions);
    const reruns = [];
    for (let s = 0; s < o.shards; s++) {
      const r = await rerunJournal(t, risk, s);
      const live = shards.shard(s)!.engine;
      if (r.shard.engine.stateHash() !== live.stateHash()) throw new Error(`shard ${s}: the journal re-run does not reproduce the live state`);
      const broken = live.checkInvariants();
      if (broken.length > 0) throw new Error(`shard ${s}: ${broken.join('; ')}`);
      reruns.push(r);
    }
    if (valueMultiset(reruns.flatMap((r) => r.orders)).join() !== valueMultiset(orders.flat()).join()) throw new Error('committed orders differ from the journal re-run');
    if (valueMultiset(reruns.flatMap((r) => r.signedOrders)).join() !== valueMultiset(signed.flat()).join()) throw new Error('committed signed orders differ from the journal re-run');
    let trades = 0;
    const events = await readPartitions(t, eng.topics.marketEvents, o.partitions);
    for (let p = 0; p < o.partitions; p++) {
      const replay = new PartitionEngine({ partition: p, partitions: o.partitions, catalogue, accountShards: o.shards }).process(orders[p]!);
      const want = replay.outputs.map((m) => Buffer.from(m.value).toString('hex'));
      const got = events[p]!.map((m) => Buffer.from(m.value).toString('hex'));
      if (want.join() !== got.join()) throw new Error(`market events of partition ${p} differ from a replay of its orders`);
      trades += replay.stats.applied.reduce((n, a) => n + a.events, 0);
    }

    // The engine alone on the same orders, in the same run: a second engine group on a copy of the orders.
    const copy = `${run}.orders-copy`;
    await t.ensureTopics([{ name: copy, partitions: o.partitions }]);
    const alone = engineConfig('-alone', copy, false);
    const engine2 = await retryingUnknownTopic(() => startMatchingEngine(alone, t, { logger }));
    try {
      const msgs = orders.flatMap((part, p) => part.map((m) => ({ key: m.key ?? '', partition: p, value: m.value })));
      const t1 = performance.now();
      const c1 = process.cpuUsage();
      await sendAll(t, copy, msgs);
      await waitDrained(t, [[copy, alone.groupId]], { engine: engine2.stopped }, 'engine alone');
      const engineOnlySec = (performance.now() - t1) / 1000;
      const engineOnlyCpuSec = cpuSec(c1);
      return { transport: t.kind, requests: o.orders, accepted, rejected, trades, withRiskSec, engineOnlySec, withRiskCpuSec, engineOnlyCpuSec, p50Ms, p99Ms };
    } finally {
      await engine2.close();
    }
  } finally {
    await shards.close();
    await engine.close();
  }
}

function report(o: Options, results: readonly Result[]): string {
  const rate = (n: number, s: number): string => Math.round(n / s).toLocaleString('en-US');
  const ms = (v: number): string => (v === Infinity ? '> 5 s' : Number.isNaN(v) ? 'n/a' : `≤ ${v} ms`);
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (load ${loadavg()[0]!.toFixed(2)} at the end), Node ${process.version}:`,
    `${o.orders.toLocaleString('en-US')} place requests (10% from accounts without funds), ${o.accounts} funded accounts, ${o.markets} markets, S = ${o.shards} account shards, P = ${o.partitions} market partitions, ${REQUESTS_PER_MESSAGE} requests per message, ${o.rate === null ? 'unpaced' : `paced at ${o.rate.toLocaleString('en-US')} requests/s`}; risk shards and the engine in this one process. Latency: request message appended → its orders' events committed by the engine, per forwarded command batch, as the upper bound of the engine histogram's bucket.`,
    '',
    '| transport | requests/s through risk → engine → risk (wall) | CPU s of this process | accepted | refused | latency p50 / p99 | engine alone on the same orders, orders/s (wall) | CPU s | requests per CPU-second, with risk / engine alone |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.transport} | ${rate(r.requests, r.withRiskSec)} (${r.withRiskSec.toFixed(2)} s) | ${r.withRiskCpuSec.toFixed(2)} | ${r.accepted.toLocaleString('en-US')} | ${r.rejected.toLocaleString('en-US')} | ${ms(r.p50Ms)} / ${ms(r.p99Ms)} | ${rate(r.accepted, r.engineOnlySec)} (${r.engineOnlySec.toFixed(2)} s) | ${r.engineOnlyCpuSec.toFixed(2)} | ${rate(r.requests, r.withRiskCpuSec)} / ${rate(r.accepted, r.engineOnlyCpuSec)} |`,
    ),
    '',
    'Every run verified: each shard\'s journal re-run ends with the live state hash and forwards exactly the committed orders and signed orders; each orders partition replayed by a fresh PartitionEngine gives exactly the committed market events; every invariant holds on every shard.',
  ];
  return lines.join('\n');
}

const o = parseArgs(process.argv.slice(2));
const results: Result[] = [];
{
  const t = createEmbeddedTransport();
  try {
    results.push(await scenario(t, o, `rpb-emb-${process.pid}`));
  } finally {
    await t.close();
  }
}
const brokers = process.env['KAFKA_BROKERS'];
if (brokers !== undefined && brokers !== '') {
  const t = createKafkaTransport({ brokers: brokers.split(','), clientId: `rpb-${process.pid}` });
  try {
    results.push(await scenario(t, o, `rpb-kafka-${process.pid}-${Date.now()}`));
  } finally {
    await t.close();
  }
}
const text = report(o, results);
console.log(text);
if (o.docs) {
  const doc = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : '';
  const block = `${REGION_START}\n${text}\n${REGION_END}`;
  const a = doc.indexOf(REGION_START);
  const b = doc.indexOf(REGION_END);
  const next = a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + REGION_END.length) : `${doc.trimEnd()}\n\n## bench:risk-pipeline\n\n${block}\n`;
  writeFileSync(DOCS, next);
}
