// Order-book benchmark (issue 14): per workload shape, the Parallax book beside a plain reference book
// (the "limit" line: what matching alone costs) and nodejs-order-book, each verified trade for trade
// against the workload's own model; then a chunked snapshot and restore of a 1,000,000-order book.
//
//   npm run bench:book                               3 shapes x 1M operations, writes docs/benchmarks.md
//   node libs/order-book/dist/bench/book.bench.js --smoke         20k operations per shape, checks only (CI)
//   options: --shape normal,deep,active  --ops N  --seed S  --runs N (timed passes, default 3)
//            --latency-runs N (default 3)  --no-nodejs (skip nodejs-order-book)  --snapshot-orders N (0 = skip)
//            --no-docs  --docs PATH
//
// Exits non-zero when any book disagrees with the model (trades, cancels, final depth) or did no real work.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OrderBook, Side, TimeInForce } from '../index.js';
import { checkRun, firstTradeDifference } from './checks.js';
import { NodejsOrderBookRunner, nodejsOrderBookVersion } from './nodejs-order-book-runner.js';
import { BENCH_MARKET, ParallaxRunner, placeCommand } from './parallax-runner.js';
import { PlainRunner } from './plain-runner.js';
import type { BenchReport, BookFigures, Machine, ShapeReport, SnapshotFigures } from './report.js';
import { extractHistory, renderConsole, renderMarkdown, replaceRegion, utcStamp } from './report.js';
import type { BookRunner, RunResult, TradeRecord } from './runner.js';
import type { LatencySummary } from './stats.js';
import { int, median, mib, rate, summarize, us } from './stats.js';
import type { Shape, Workload } from './workload.js';
import { OP_CANCEL, OP_LIMIT, SHAPES, generateWorkload } from './workload.js';

interface Options {
  shapes: Shape[];
  ops: number;
  seed: number;
  runs: number;
  latencyRuns: number;
  nodejs: boolean;
  snapshotOrders: number;
  smoke: boolean;
  docs: string | undefined;
}

const DEFAULT_SEED = 20261124;
const DOCS_PATH = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
/** Kafka's default message size limit: the snapshot chunk size the engine would need. */
const CHUNK_BYTES = 1024 * 1024;

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    shapes: [...SHAPES],
    ops: 1_000_000,
    seed: DEFAULT_SEED,
    runs: 3,
    latencyRuns: 3,
    nodejs: true,
    snapshotOrders: 1_000_000,
    smoke: false,
    docs: DOCS_PATH,
  };
  let opsGiven = false;
  const num = (i: number, name: string): number => {
    const v = Number(argv[i + 1]?.replace(/[_,]/g, ''));
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    switch (a) {
      case '--shape': {
        const names = (argv[++i] ?? '').split(',');
        o.shapes = names.map((n) => {
          const s = SHAPES.find((x) => x.name === n);
          if (s === undefined) throw new Error(`unknown shape ${n} (${SHAPES.map((x) => x.name).join(', ')})`);
          return s;
        });
        break;
      }
      case '--ops':
        o.ops = num(i++, a);
        opsGiven = true;
        break;
      case '--seed':
        o.seed = num(i++, a) >>> 0;
        break;
      case '--runs':
        o.runs = Math.max(1, num(i++, a));
        break;
      case '--latency-runs':
        o.latencyRuns = num(i++, a);
        break;
      case '--no-nodejs':
        o.nodejs = false;
        break;
      case '--snapshot-orders':
        o.snapshotOrders = num(i++, a);
        break;
      case '--smoke':
        o.smoke = true;
        break;
      case '--no-docs':
        o.docs = undefined;
        break;
      case '--docs':
        o.docs = argv[++i];
        break;
      case '--help':
        console.log(
          'usage: book.bench.js [--smoke] [--shape a,b] [--ops N] [--seed S] [--runs N] [--latency-runs N] [--no-nodejs] [--snapshot-orders N] [--no-docs | --docs PATH]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  if (o.smoke) {
    if (!opsGiven) o.ops = 20_000;
    o.runs = 1;
    o.latencyRuns = 1;
    o.snapshotOrders = Math.min(o.snapshotOrders, 50_000);
    o.docs = undefined;
  }
  if (o.ops < 1000) throw new Error('--ops must be at least 1000');
  return o;
}

function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown CPU',
    cpus: c.length,
    node: process.version,
    platform: `${platform()} ${arch()}`,
    memGiB: Math.round(totalmem() / 1024 ** 3),
    loadAvg: loadavg()[0] ?? 0,
  };
}

/** A real GC between measurements (exposed at runtime; undefined if the VM refuses). */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const gc = exposeGc();
const collect = (): void => {
  if (gc !== undefined) {
    gc();
    gc();
  }
};
const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/** Every GC the VM reports, as [start, duration] in performance.now() ms; observer callbacks arrive asynchronously. */
const gcPauses: [number, number][] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([e.startTime, e.duration]);
});
gcObserver.observe({ entryTypes: ['gc'] });
/** Lets queued observer callbacks run (the passes themselves are synchronous). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
function gcIn(from: number, to: number): { ms: number; max: number; count: number } {
  let ms = 0;
  let max = 0;
  let count = 0;
  for (const [start, d] of gcPauses) {
    if (start < from || start > to) continue;
    ms += d;
    if (d > max) max = d;
    count++;
  }
  return { ms, max, count };
}

function log(msg: string): void {
  console.log(msg);
}

function describeOp(w: Workload, i: number): string {
  const k = w.kind[i];
  const side = w.side[i] === 0 ? 'buy' : 'sell';
  if (k === OP_CANCEL) return `#${i} cancel order ${w.id[i]} (${side})`;
  if (k === OP_LIMIT) return `#${i} limit ${side} ${w.size[i]}@${w.price[i]} order ${w.id[i]}`;
  return `#${i} market ${side} ${w.size[i]} order ${w.id[i]}`;
}

/** Replays two books recording every trade and prints where they first part ways. */
function explainMismatch(w: Workload, a: BookRunner, b: BookRunner): void {
  log(`\nReplaying ${a.name} and ${b.name} with a trade log to find the first difference...`);
  const x = a.record(w);
  const y = b.record(w);
  const fmt = (t: TradeRecord | undefined): string => (t ? `op ${t.op}: maker ${t.maker} taker ${t.taker} ${t.size}@${t.price}` : 'none');
  const i = firstTradeDifference(x, y);
  if (i >= 0) {
    const p = x[i];
    const q = y[i];
    log(`first difference at trade #${i}:`);
    log(`  ${a.name.padEnd(18)} ${fmt(p)}`);
    log(`  ${b.name.padEnd(18)} ${fmt(q)}`);
    const op = Math.min(p?.op ?? Number.MAX_SAFE_INTEGER, q?.op ?? Number.MAX_SAFE_INTEGER);
    for (let j = Math.max(0, op - 3); j <= Math.min(w.count - 1, op + 1); j++) log(`    ${describeOp(w, j)}`);
    return;
  }
  log(`trade logs are identical (${int(x.length)} trades): the difference is elsewhere (cancels, rejects or final depth)`);
}

interface Measured {
  figures: BookFigures;
  results: RunResult[];
}

/** One book under measurement and what its passes have recorded so far. */
interface Entrant {
  readonly runner: BookRunner;
  readonly label: string;
  readonly warmupOps: number;
  readonly runs: number;
  readonly latencyRuns: number;
  readonly results: RunResult[];
  readonly opsPerSec: number[];
  readonly opsPerCpuSec: number[];
  readonly gcMs: number[];
  readonly gcCount: number[];
  maxPause: number;
  maxPauseLatency: number;
  readonly passes: LatencySummary[];
}

function entrant(runner: BookRunner, label: string, warmupOps: number, runs: number, latencyRuns: number): Entrant {
  return { runner, label, warmupOps, runs, latencyRuns, results: [], opsPerSec: [], opsPerCpuSec: [], gcMs: [], gcCount: [], maxPause: 0, maxPauseLatency: 0, passes: [] };
}

async function timedPass(e: Entrant, w: Workload, r: number): Promise<void> {
  const runner = e.runner;
  runner.reset();
  collect();
  await settle();
  const cpu0 = process.cpuUsage();
  const p0 = performance.now();
  const t0 = process.hrtime.bigint();
  runner.run(w, 0, w.count);
  const ns = Number(process.hrtime.bigint() - t0);
  const p1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await settle();
  const g = gcIn(p0, p1);
  e.gcMs.push(g.ms);
  e.gcCount.push(g.count);
  e.maxPause = Math.max(e.maxPause, g.max);
  const ops = (w.count * 1e9) / ns;
  e.opsPerSec.push(ops);
  e.opsPerCpuSec.push((w.count * 1e6) / Math.max(1, cpu.user + cpu.system));
  e.results.push(runner.result());
  log(`  ${e.label} timed pass ${r + 1}/${e.runs}: ${rate(ops)} ops/s (${(ns / 1e6).toFixed(0)} ms; GC ${g.ms.toFixed(1)} ms in ${g.count}, max pause ${g.max.toFixed(2)} ms)`);
}

async function latencyPass(e: Entrant, w: Workload, lat: Float64Array, r: number): Promise<void> {
  const runner = e.runner;
  runner.reset();
  collect();
  await settle();
  const p0 = performance.now();
  runner.runTimed(w, lat);
  const p1 = performance.now();
  await settle();
  const g = gcIn(p0, p1);
  e.maxPauseLatency = Math.max(e.maxPauseLatency, g.max);
  e.results.push(runner.result());
  const all = summarize(lat);
  e.passes.push(all);
  log(
    `  ${e.label} latency pass ${r + 1}/${e.latencyRuns}: p50 ${us(all.p50Ns)} µs, p99 ${us(all.p99Ns)} µs, p99.9 ${us(all.p999Ns)} µs, ` +
      `max ${us(all.maxNs)} µs (GC max pause ${g.max.toFixed(2)} ms)`,
  );
}

/**
 * Measures several books on one workload with their passes interleaved (round r: every book's pass r, the
 * order rotating each round), so that load from other processes on the shared machine falls on all of
 * them alike and the ratios within a run mean something even when absolute figures swing.
 */
async function measure(entrants: readonly Entrant[], w: Workload): Promise<Measured[]> {
  for (const e of entrants) {
    // warm-up: the JIT sees the same code paths and data shapes as the timed runs
    e.runner.reset();
    e.runner.run(w, 0, e.warmupOps);
    if (e.warmupOps === w.count) e.results.push(e.runner.result());
  }
  const rotate = (r: number): Entrant[] => entrants.map((_, i) => entrants[(i + r) % entrants.length]!);
  const rounds = Math.max(...entrants.map((e) => e.runs));
  for (let r = 0; r < rounds; r++) for (const e of rotate(r)) if (r < e.runs) await timedPass(e, w, r);
  const latencyRounds = Math.max(...entrants.map((e) => e.latencyRuns));
  const lat = new Float64Array(latencyRounds > 0 ? w.count : 0);
  for (let r = 0; r < latencyRounds; r++) for (const e of rotate(r)) if (r < e.latencyRuns) await latencyPass(e, w, lat, r);

  return entrants.map((e) => {
    // the pass with the median p99.9 is the one reported
    const ranked = [...e.passes].sort((x, y) => x.p999Ns - y.p999Ns);
    const chosen = ranked[(ranked.length - 1) >> 1];
    const peak = maxRssBytes();
    // retained memory of the final book: heap plus ArrayBuffer memory in use with it alive, minus after
    // replacing it by an empty one (typed arrays keep their contents outside the JS heap)
    let retained: number | undefined;
    if (gc !== undefined) {
      const inUse = (): number => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      collect();
      const withBook = inUse();
      e.runner.reset();
      collect();
      retained = Math.max(0, withBook - inUse());
    }
    return {
      figures: {
        label: e.label,
        runs: e.opsPerSec,
        opsPerSec: median(e.opsPerSec),
        opsPerCpuSec: median(e.opsPerCpuSec),
        latency: chosen,
        latencyPasses: e.passes.map((x) => x.p999Ns),
        gc: { perPassMs: median(e.gcMs), maxPauseMs: e.maxPause, maxPauseLatencyMs: e.maxPauseLatency, perPassCount: median(e.gcCount) },
        result: e.results[e.results.length - 1]!,
        peakRssBytes: peak,
        retainedHeapBytes: retained,
      },
      results: e.results,
    };
  });
}

function timerFloor(): LatencySummary {
  const n = 200_000;
  const out = new Float64Array(n);
  const now = (): number => performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = now();
    out[i] = (now() - t0) * 1e6;
  }
  return summarize(out);
}

async function runShape(s: Shape, o: Options, failures: string[], checks: string[]): Promise<ShapeReport> {
  log(`\n== ${s.name}: ${s.title}`);
  const g0 = performance.now();
  const w = generateWorkload(o.seed, o.ops, s.params);
  const generationMs = performance.now() - g0;
  const e = w.expected;
  log(
    `workload: ${int(e.limits)} limit / ${int(e.markets)} market / ${int(e.cancels)} cancel, ${int(e.trades)} trades expected, ` +
      `~${int(e.meanRestingOrders)} resting (max ${int(e.maxRestingOrders)}), generated in ${generationMs.toFixed(0)} ms`,
  );
  const check = (name: string, m: Measured): void => {
    m.results.forEach((r, i) => failures.push(...checkRun(`${s.name}: ${name} pass ${i + 1}`, r, w)));
  };
  const plainRunner = new PlainRunner();
  const parallaxRunner = new ParallaxRunner();
  const [plain, px] = await measure(
    [entrant(plainRunner, 'plain reference', o.ops, o.runs, o.latencyRuns), entrant(parallaxRunner, 'Parallax', o.ops, o.runs, o.latencyRuns)],
    w,
  );
  if (plain === undefined || px === undefined) throw new Error('measure returned fewer books than it was given');
  check('plain reference', plain);
  check('Parallax', px);
  const hashes = new Set(px.results.map((r) => r.stateHash));
  if (hashes.size !== 1) failures.push(`${s.name}: Parallax state hash differs between passes over the same operations: ${[...hashes].join(', ')}`);
  let nodejs: Measured | undefined;
  if (o.nodejs) {
    // Fifty times slower: timed once after the two fast books, outside their interleaving.
    const runner = new NodejsOrderBookRunner();
    [nodejs] = await measure([entrant(runner, `nodejs-order-book ${nodejsOrderBookVersion()}`, Math.min(100_000, Math.floor(o.ops / 5)), 1, 0)], w);
    if (nodejs !== undefined) {
      check('nodejs-order-book', nodejs);
      if (nodejs.figures.result.tradeHash !== e.tradeHash) explainMismatch(w, parallaxRunner, runner);
    }
  }
  if (px.figures.result.tradeHash !== e.tradeHash) explainMismatch(w, parallaxRunner, plainRunner);
  checks.push(
    `${s.name}: ${o.nodejs ? 'all three books' : 'both books'} produced the model's ${int(e.trades)} trades (count, lots, order-sensitive hash), ` +
      `all ${int(e.cancels)} cancels hit, nothing rejected, final depth identical, Parallax state hash identical over its ${px.results.length} passes`,
  );
  return {
    name: s.name,
    title: s.title,
    params: w.params,
    expected: e,
    generationMs,
    plain: plain.figures,
    parallax: px.figures,
    nodejs: nodejs?.figures,
  };
}

/** Builds a book of `orders` resting orders (own account each), snapshots it in 1 MiB chunks and restores it. */
function snapshotAtDepth(orders: number, failures: string[]): SnapshotFigures {
  log(`\n== snapshot of a ${int(orders)}-order book`);
  const book = new OrderBook(BENCH_MARKET);
  const place = placeCommand();
  // Bids on 1..500, asks on 501..1000 ticks: never crossing, ~1,000 levels, sizes 1..50.
  for (let i = 1; i <= orders; i++) {
    const buy = (i & 1) === 0;
    place.orderId = i;
    place.accountId = i;
    place.side = buy ? Side.Buy : Side.Sell;
    place.price = buy ? 1 + (Math.imul(i, 2654435761) >>> 0) % 500 : 501 + (Math.imul(i, 40503) >>> 0) % 500;
    place.size = 1 + (i % 50);
    place.tif = i % 10 === 0 ? TimeInForce.GTT : TimeInForce.GTC;
    place.expiresAt = place.tif === TimeInForce.GTT ? 1_000_000 + i : 0;
    book.apply(place);
  }
  if (book.orderCount !== orders) failures.push(`snapshot: built ${int(book.orderCount)} resting orders, wanted ${int(orders)}`);
  collect();
  const s0 = performance.now();
  const chunks = book.snapshotChunks(CHUNK_BYTES);
  const snapshotMs = performance.now() - s0;
  let bytes = 0;
  for (const c of chunks) {
    bytes += c.length;
    if (c.length > CHUNK_BYTES) failures.push(`snapshot: a chunk of ${c.length} bytes exceeds ${CHUNK_BYTES}`);
  }
  collect();
  const r0 = performance.now();
  const restored = OrderBook.restore(chunks);
  const restoreMs = performance.now() - r0;
  if (restored.stateHash() !== book.stateHash()) failures.push('snapshot: restored state hash differs');
  if (restored.orderCount !== orders) failures.push(`snapshot: restored ${int(restored.orderCount)} orders, wanted ${int(orders)}`);
  const again = restored.snapshot();
  let same = again.length === bytes;
  for (let i = 0, at = 0; same && i < chunks.length; at += chunks[i]!.length, i++) {
    const c = chunks[i]!;
    for (let j = 0; j < c.length; j++) {
      if (again[at + j] !== c[j]) {
        same = false;
        break;
      }
    }
  }
  if (!same) failures.push("snapshot: the restored book's snapshot is not byte-identical");
  const levels = book.depth(Side.Buy).length + book.depth(Side.Sell).length;
  log(`  ${mib(bytes)} MiB in ${chunks.length} chunks; snapshot ${snapshotMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms`);
  return { orders, levels, bytes, chunks: chunks.length, chunkBytes: CHUNK_BYTES, snapshotMs, restoreMs };
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const m = machine();
  log(`Order-book benchmark${o.smoke ? ' (smoke)' : ''}: seed ${o.seed}, ${int(o.ops)} operations per shape (${o.shapes.map((s) => s.name).join(', ')})`);
  log(`machine: ${m.cpu}, ${m.cpus} CPUs, ${m.memGiB} GiB, Node ${m.node} (${m.platform}), load average ${m.loadAvg.toFixed(2)}${gc ? '' : ' [no GC control]'}`);
  const floor = timerFloor();
  const failures: string[] = [];
  const checks: string[] = [];
  const shapes: ShapeReport[] = [];
  for (const s of o.shapes) shapes.push(await runShape(s, o, failures, checks));
  const snapshot = o.snapshotOrders > 0 ? snapshotAtDepth(o.snapshotOrders, failures) : undefined;
  if (snapshot !== undefined) checks.push(`the ${int(snapshot.orders)}-order snapshot restored from ${snapshot.chunks} chunks to the same bytes and state hash`);

  const report: BenchReport = { date: new Date(), machine: m, seed: o.seed, ops: o.ops, runs: o.runs, latencyRuns: o.latencyRuns, timerFloor: floor, shapes, snapshot, checks };
  log('');
  log(renderConsole(report));
  if (failures.length > 0) {
    log(`FAILED (${failures.length} check${failures.length > 1 ? 's' : ''}):`);
    for (const f of failures) log(`  - ${f}`);
    return 1;
  }
  log(`checks passed: ${checks.join('; ')}`);
  if (o.docs !== undefined) {
    const doc = existsSync(o.docs) ? readFileSync(o.docs, 'utf8') : '';
    writeFileSync(o.docs, replaceRegion(doc, renderMarkdown(report, extractHistory(doc))));
    log(`wrote ${o.docs} (${utcStamp(report.date)}; peak RSS ${mib(maxRssBytes())} MiB)`);
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error('benchmark failed:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  gcObserver.disconnect();
}
