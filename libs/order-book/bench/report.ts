// Rendering of the order-book benchmark: a console table and the docs/benchmarks.md section
// (between the bench:book markers, with a short history of previous runs kept inside the section): per
// workload shape, the Parallax book beside the plain reference book and nodejs-order-book.

import type { RunResult } from './runner.js';
import type { LatencySummary } from './stats.js';
import { int, mib, rate, us } from './stats.js';
import type { WorkloadExpectation, WorkloadParams } from './workload.js';

export const REGION_START = '<!-- bench:book:start -->';
export const REGION_END = '<!-- bench:book:end -->';
const HISTORY_ROWS = 12;

export function utcStamp(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const HISTORY_ROW = /^\| \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \|.*\|$/;

/** History rows found in an existing docs file (inside the book region only), most recent first. */
export function extractHistory(doc: string): string[] {
  const start = doc.indexOf(REGION_START);
  const end = doc.indexOf(REGION_END);
  if (start < 0 || end < start) return [];
  return doc
    .slice(start, end)
    .split('\n')
    .filter((l) => HISTORY_ROW.test(l.trim()))
    .map((l) => l.trim());
}

export interface Machine {
  readonly cpu: string;
  readonly cpus: number;
  readonly node: string;
  readonly platform: string;
  readonly memGiB: number;
  /** 1-minute load average when the run started (the machine is shared). */
  readonly loadAvg: number;
}

/** Garbage collection seen by a perf_hooks 'gc' observer during a book's passes. */
export interface GcFigures {
  /** Median over the timed passes of the total GC time of one pass (ms). */
  readonly perPassMs: number;
  /** Longest single GC pause during the timed passes (ms): what the book's own allocation causes. */
  readonly maxPauseMs: number;
  /**
   * Longest pause during the latency passes (ms). performance.now() still boxes a double now and then
   * (a scavenge every ~300k reads), so these passes also collect the timer's garbage.
   */
  readonly maxPauseLatencyMs: number;
  /** Collections per timed pass (median): scavenges and mark-compacts together. */
  readonly perPassCount: number;
}

export interface BookFigures {
  readonly label: string;
  /** ops/s of each timed run, in run order. */
  readonly runs: readonly number[];
  readonly opsPerSec: number;
  /** Median over the timed runs of operations per second of process CPU time (user + system). */
  readonly opsPerCpuSec: number;
  /** The latency pass with the median p99.9 (undefined when no latency pass ran). */
  readonly latency: LatencySummary | undefined;
  readonly latencyPasses: readonly number[];
  readonly gc: GcFigures;
  readonly result: RunResult;
  /** process.resourceUsage().maxRSS when this book's passes ended (the process's peak so far). */
  readonly peakRssBytes: number;
  readonly retainedHeapBytes: number | undefined;
}

export interface ShapeReport {
  readonly name: string;
  readonly title: string;
  readonly params: WorkloadParams;
  readonly expected: WorkloadExpectation;
  readonly generationMs: number;
  /** plain reference first, then Parallax, then nodejs-order-book (when run). */
  readonly plain: BookFigures;
  readonly parallax: BookFigures;
  readonly nodejs: BookFigures | undefined;
}

export interface SnapshotFigures {
  readonly orders: number;
  readonly levels: number;
  readonly bytes: number;
  readonly chunks: number;
  readonly chunkBytes: number;
  readonly snapshotMs: number;
  readonly restoreMs: number;
}

export interface BenchReport {
  readonly date: Date;
  readonly machine: Machine;
  readonly seed: number;
  readonly ops: number;
  readonly runs: number;
  readonly latencyRuns: number;
  readonly timerFloor: LatencySummary;
  readonly shapes: readonly ShapeReport[];
  readonly snapshot: SnapshotFigures | undefined;
  readonly checks: readonly string[];
}

/** Goals of issue 14 per shape: Parallax / plain reference, p99.9, max GC pause. */
export const GOALS: Readonly<Record<string, { ratio: number; p999Ns: number; gcPauseMs: number }>> = {
  normal: { ratio: 1.0, p999Ns: 5_000, gcPauseMs: 1 },
  deep: { ratio: 0.8, p999Ns: 5_000, gcPauseMs: 1 },
};

export function ratio(a: BookFigures, b: BookFigures | undefined): number {
  return b === undefined || b.opsPerSec <= 0 ? Number.NaN : a.opsPerSec / b.opsPerSec;
}

/**
 * Median over rounds of a's pass / b's pass of the same round. The passes of the two books are
 * interleaved, so each pair saw about the same load from the rest of the machine: steadier than the ratio
 * of the two medians when the load swings between rounds.
 */
export function pairedRatio(a: BookFigures, b: BookFigures | undefined): number {
  if (b === undefined) return Number.NaN;
  const n = Math.min(a.runs.length, b.runs.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) if (b.runs[i]! > 0) r.push(a.runs[i]! / b.runs[i]!);
  if (r.length === 0) return Number.NaN;
  r.sort((x, y) => x - y);
  const m = r.length >> 1;
  return r.length % 2 === 1 ? r[m]! : (r[m - 1]! + r[m]!) / 2;
}
function cpuRatio(a: BookFigures, b: BookFigures | undefined): number {
  return b === undefined || b.opsPerCpuSec <= 0 ? Number.NaN : a.opsPerCpuSec / b.opsPerCpuSec;
}
const x = (r: number): string => (Number.isNaN(r) ? '-' : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);
const lat = (l: LatencySummary | undefined): string => (l === undefined ? '-' : `${us(l.p50Ns)} / ${us(l.p99Ns)} / ${us(l.p999Ns)} / ${us(l.maxNs)} µs`);
const heap = (b: number | undefined): string => (b === undefined ? 'n/a' : `${mib(b)} MiB`);

/** Goal verdicts of one shape (empty when the shape has no goal). */
export function goalLines(s: ShapeReport): string[] {
  const g = GOALS[s.name];
  if (g === undefined) return [];
  const p = s.parallax;
  const r = pairedRatio(p, s.plain);
  const ok = (b: boolean): string => (b ? 'met' : 'NOT met');
  return [
    `≥ ${g.ratio.toFixed(1)}× the plain reference: ${ok(r >= g.ratio)} (${x(r)}, median of the per-round ratios; ${x(cpuRatio(p, s.plain))} by CPU time)`,
    `p99.9 < ${us(g.p999Ns)} µs: ${ok(p.latency !== undefined && p.latency.p999Ns < g.p999Ns)} (${p.latency ? us(p.latency.p999Ns) : '-'} µs)`,
    `max GC pause < ${g.gcPauseMs} ms: ${ok(p.gc.maxPauseMs < g.gcPauseMs)} (${p.gc.maxPauseMs.toFixed(2)} ms in the timed passes; ` +
      `${p.gc.maxPauseLatencyMs.toFixed(2)} ms in the latency passes, which also collect the timer's garbage)`,
  ];
}

function books(s: ShapeReport): BookFigures[] {
  return s.nodejs === undefined ? [s.plain, s.parallax] : [s.plain, s.parallax, s.nodejs];
}

function rows(s: ShapeReport): [string, ...string[]][] {
  const b = books(s);
  const cells = (f: (x: BookFigures) => string): string[] => b.map(f);
  return [
    ['ops/s (median of timed passes)', ...cells((f) => rate(f.opsPerSec))],
    ['Parallax / this book (ops/s; by CPU time)', ...cells((f) => (f === s.parallax ? '1' : `${x(f === s.plain ? pairedRatio(s.parallax, f) : ratio(s.parallax, f))}; ${x(cpuRatio(s.parallax, f))}`))],
    ['timed passes', ...cells((f) => f.runs.map(rate).join(', '))],
    ['latency p50 / p99 / p99.9 / max', ...cells((f) => lat(f.latency))],
    ['GC per timed pass (count) / max pause', ...cells((f) => `${f.gc.perPassMs.toFixed(1)} ms (${f.gc.perPassCount}) / ${f.gc.maxPauseMs.toFixed(2)} ms`)],
    ['max GC pause in the latency passes', ...cells((f) => (f.latency === undefined ? '-' : `${f.gc.maxPauseLatencyMs.toFixed(2)} ms`))],
    ['peak RSS of the process so far', ...cells((f) => `${mib(f.peakRssBytes)} MiB`)],
    ['retained memory of the final book (heap + ArrayBuffers)', ...cells((f) => heap(f.retainedHeapBytes))],
    ['trades (hash)', ...cells((f) => `${int(f.result.trades)} (${f.result.tradeHash})`)],
  ];
}

function workloadLine(s: ShapeReport): string {
  const e = s.expected;
  const w = s.params;
  const n = Math.max(1, w.ops);
  const pct = (k: number): string => `${((100 * k) / n).toFixed(0)}%`;
  return (
    `${int(w.ops)} operations: ${pct(e.limits)} limit / ${pct(e.markets)} market / ${pct(e.cancels)} cancel of a uniformly chosen resting order; ` +
    `sizes 1 + exponential (mean ${w.limitSizeMean} limit, ${w.marketSizeMean} market); limit prices normal around a random-walk mid ` +
    `(${w.limitOffsetMean} ± ${w.limitOffsetSd} ticks behind it, leaning by up to ${w.depthGain} ticks towards ${int(w.targetDepth)} resting orders); ` +
    `${w.accounts === 0 ? 'every order from its own account' : `${int(2 * w.accounts)} accounts (${int(w.accounts)} buyers, ${int(w.accounts)} sellers)`}. ` +
    `Resting: ${int(e.meanRestingOrders)} on average, max ${int(e.maxRestingOrders)}, ${int(e.restingOrders)} on ` +
    `${e.finalDepth.bids.length + e.finalDepth.asks.length} levels at the end (up to ${int(e.maxLevelQueue)} orders at one level); ${int(e.trades)} trades.`
  );
}

/** Plain-text tables for the terminal. */
export function renderConsole(r: BenchReport): string {
  const out: string[] = [];
  for (const s of r.shapes) {
    out.push(`== ${s.name}: ${s.title}`);
    out.push(`   ${workloadLine(s)}`);
    const rs = rows(s);
    const head = ['', ...books(s).map((b) => b.label)];
    const widths = head.map((h, i) => Math.max(h.length, ...rs.map((row) => (row[i] ?? '').length)));
    const line = (cols: readonly string[]): string => `  ${cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
    out.push(line(head));
    for (const row of rs) out.push(line(row));
    for (const g of goalLines(s)) out.push(`  goal: ${g}`);
    out.push('');
  }
  if (r.snapshot !== undefined) out.push(snapshotLine(r.snapshot));
  return out.join('\n');
}

function snapshotLine(s: SnapshotFigures): string {
  const per100k = (ms: number): string => ((ms * 100_000) / Math.max(1, s.orders)).toFixed(0);
  return (
    `Chunked snapshot of a book with ${int(s.orders)} resting orders on ${int(s.levels)} levels: ${mib(s.bytes)} MiB in ${int(s.chunks)} chunks of ` +
    `at most ${mib(s.chunkBytes)} MiB; snapshot ${s.snapshotMs.toFixed(0)} ms (${per100k(s.snapshotMs)} ms per 100k orders), ` +
    `restore ${s.restoreMs.toFixed(0)} ms (**${per100k(s.restoreMs)} ms per 100k orders**); the restored book's snapshot is byte-identical and its state hash equal.`
  );
}

/** History row of one run (also parsed back from the previous docs section). */
export function historyRow(r: BenchReport): string {
  const cell = (name: string): string => {
    const s = r.shapes.find((y) => y.name === name);
    if (s === undefined) return '-';
    const p = s.parallax;
    return `${rate(p.opsPerSec)} / ${x(pairedRatio(p, s.plain))} / ${p.latency ? us(p.latency.p999Ns) : '-'} µs / ${p.gc.maxPauseMs.toFixed(1)} ms`;
  };
  return `| ${utcStamp(r.date)} | ${r.seed} | ${int(r.ops)} | ${cell('normal')} | ${cell('deep')} | ${cell('active')} |`;
}
const HISTORY_COLUMNS = 6;

export function renderMarkdown(r: BenchReport, previousHistory: readonly string[]): string {
  const m = r.machine;
  const cols = (row: string): number => row.split('|').length - 2;
  const history = [historyRow(r), ...previousHistory.filter((h) => cols(h) === HISTORY_COLUMNS)].slice(0, HISTORY_ROWS);
  const L: string[] = [];
  L.push('## Order book (`npm run bench:book`)');
  L.push('');
  L.push(
    `Latest run: ${utcStamp(r.date)} on ${m.cpu}, ${m.cpus} CPUs, ${m.memGiB} GiB, Node ${m.node} (${m.platform}), ` +
      `load average ${m.loadAvg.toFixed(2)} at start; seed ${r.seed}. The machine is shared and noisy (±30% between runs): ` +
      `compare the ratios measured within one run, not absolute figures across runs.`,
  );
  for (const s of r.shapes) {
    L.push('');
    L.push(`### ${s.title} (\`${s.name}\`)`);
    L.push('');
    L.push(workloadLine(s));
    L.push('');
    const b = books(s);
    L.push(`| | ${b.map((f) => f.label).join(' | ')} |`);
    L.push(`|---|${b.map(() => '---:').join('|')}|`);
    for (const row of rows(s)) L.push(`| ${row.join(' | ')} |`);
    const g = goalLines(s);
    if (g.length > 0) {
      L.push('');
      L.push(`Goals (issue 14): ${g.join('; ')}.`);
    }
  }
  if (r.snapshot !== undefined) {
    L.push('');
    L.push('### Snapshot at depth');
    L.push('');
    L.push(snapshotLine(r.snapshot));
  }
  L.push('');
  L.push(
    `Method: each shape's operation list is generated once (seeded sfc32 PRNG, alongside a simple price-time model that knows which ` +
      `orders rest) and replayed identically on every book, in one process: the plain reference (a plain-JS book written for the benchmark ` +
      `only: integer ticks, sorted level array, intrusive FIFO per level, an id \`Map\`, pooled orders; no accounts, events, sequence ` +
      `or hash), Parallax (through \`OrderBook.apply\` with reused command objects and a sink that fingerprints every trade) and ` +
      `nodejs-order-book. Per book: an untimed warm-up pass, then ${r.runs} timed passes on fresh books (median reported) and ` +
      `${r.latencyRuns} latency passes; the plain reference's and Parallax's passes are interleaved (round by round, alternating ` +
      `which goes first) so that load from the rest of the shared machine falls on both alike, and their ratio is the median of ` +
      `the per-round ratios. Latency passes time every operation with \`performance.now()\` (timer floor p50 ${us(r.timerFloor.p50Ns)} µs; ` +
      `the pass with the median p99.9 is reported; nodejs-order-book gets one timed pass). A forced GC precedes each pass; GC time and ` +
      `pauses come from a \`perf_hooks\` 'gc' observer over the passes (the goal is judged on the timed passes: \`performance.now()\` ` +
      `allocates ~13× less than \`process.hrtime.bigint()\` did, 9 against 116 scavenges per 3M timer pairs here, but not nothing, so ` +
      `the latency passes also collect the timer's garbage, and a pause there is also stretched by preemption on the shared machine). ` +
      `Peak RSS is \`process.resourceUsage().maxRSS\` ` +
      `when the book's passes ended: it only grows over the run (books run in the order shown, shapes in turn), so the retained heap ` +
      `(heap and ArrayBuffer memory in use after a GC with the final book alive minus after dropping it) is the per-book memory figure.`,
  );
  L.push('');
  L.push(`Checks passed: ${r.checks.join('; ')}.`);
  L.push('');
  L.push('History (most recent first): Parallax ops/s / ratio to the plain reference / p99.9 / max GC pause, per shape.');
  L.push('');
  L.push('| date | seed | ops per shape | normal | deep | active |');
  L.push('|---|---:|---:|---|---|---|');
  for (const h of history) L.push(h);
  return L.join('\n');
}

/** Replace (or append) the book region of a docs file; everything outside the markers is kept. */
export function replaceRegion(doc: string, body: string): string {
  const region = `${REGION_START}\n${body}\n${REGION_END}`;
  const start = doc.indexOf(REGION_START);
  const end = doc.indexOf(REGION_END);
  if (start >= 0 && end > start) return doc.slice(0, start) + region + doc.slice(end + REGION_END.length);
  const base = doc.trim().length > 0 ? `${doc.trimEnd()}\n\n` : '# Benchmarks\n\nMeasured figures of Parallax components. Each section is written by its benchmark between its own markers.\n\n';
  return `${base}${region}\n`;
}
