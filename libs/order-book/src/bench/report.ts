// Rendering of the order-book benchmark: a console table and the docs/benchmarks.md section
// (between the bench:book markers, with a short history of previous runs kept inside the section).

import type { RunResult } from './runner.js';
import type { LatencySummary } from './stats.js';
import { int, mib, rate, us } from './stats.js';
import type { WorkloadExpectation, WorkloadParams } from './workload.js';

export const REGION_START = '<!-- bench:book:start -->';
export const REGION_END = '<!-- bench:book:end -->';
export const TARGET_OPS_PER_SEC = 2_500_000;
export const TARGET_P999_NS = 20_000;
const HISTORY_ROWS = 12;

export interface Machine {
  readonly cpu: string;
  readonly cpus: number;
  readonly node: string;
  readonly platform: string;
  readonly memGiB: number;
  /** 1-minute load average when the run started (the machine is shared). */
  readonly loadAvg: number;
}

export interface BookFigures {
  readonly label: string;
  /** ops/s of each timed run, in run order. */
  readonly runs: readonly number[];
  /** Involuntary context switches (OS preemptions) during each timed run. */
  readonly runPreempted: readonly number[];
  readonly opsPerSec: number;
  /** Median over the timed runs of operations per second of process CPU time (user + system, all threads). */
  readonly opsPerCpuSec: number;
  readonly latency: LatencySummary | undefined;
  /** Every latency pass: its p99.9 and how often the OS preempted the process during it. */
  readonly latencyPasses: readonly { readonly p999Ns: number; readonly preempted: number }[];
  readonly latencyByKind: { readonly limit: LatencySummary; readonly market: LatencySummary; readonly cancel: LatencySummary } | undefined;
  readonly result: RunResult;
  readonly peakRssBytes: number;
  readonly retainedHeapBytes: number | undefined;
}

export interface BenchReport {
  readonly date: Date;
  readonly machine: Machine;
  readonly params: WorkloadParams;
  readonly expected: WorkloadExpectation;
  readonly warmupOps: number;
  readonly referenceWarmupOps: number;
  readonly generationMs: number;
  readonly baselineRssBytes: number;
  readonly timerFloor: LatencySummary;
  readonly parallax: BookFigures;
  readonly reference: BookFigures;
  readonly checks: readonly string[];
}

export interface Verdict {
  readonly ratio: number;
  /** Same ratio by CPU time: insensitive to the time the OS gave to other processes. */
  readonly cpuRatio: number;
  readonly throughputMet: boolean;
  readonly latencyMet: boolean;
}

export function verdict(r: BenchReport): Verdict {
  return {
    ratio: r.reference.opsPerSec > 0 ? r.parallax.opsPerSec / r.reference.opsPerSec : Number.POSITIVE_INFINITY,
    cpuRatio: r.reference.opsPerCpuSec > 0 ? r.parallax.opsPerCpuSec / r.reference.opsPerCpuSec : Number.POSITIVE_INFINITY,
    throughputMet: r.parallax.opsPerSec >= TARGET_OPS_PER_SEC,
    latencyMet: r.parallax.latency !== undefined && r.parallax.latency.p999Ns < TARGET_P999_NS,
  };
}

function pct(n: number, of: number): string {
  return `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
}

function mixLine(e: WorkloadExpectation, ops: number): string {
  return `${pct(e.limits, ops)} limit / ${pct(e.markets, ops)} market / ${pct(e.cancels, ops)} cancel`;
}

function latencyCell(l: LatencySummary | undefined): string {
  return l === undefined ? 'not measured' : `${us(l.p50Ns)} / ${us(l.p99Ns)} / ${us(l.p999Ns)} µs`;
}

function runsCell(f: BookFigures): string {
  return f.runs.map((x, i) => `${rate(x)} (${f.runPreempted[i] ?? 0} cs)`).join(', ');
}

function passesCell(f: BookFigures): string {
  if (f.latencyPasses.length === 0) return '-';
  return f.latencyPasses.map((x) => `${us(x.p999Ns)} µs (${x.preempted} cs)`).join(', ');
}

function heapCell(b: number | undefined): string {
  return b === undefined ? 'n/a' : `${mib(b)} MiB`;
}

export function utcStamp(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Plain-text table for the terminal. */
export function renderConsole(r: BenchReport): string {
  const v = verdict(r);
  const p = r.parallax;
  const n = r.reference;
  const rows: [string, string, string][] = [
    ['throughput (median)', `${rate(p.opsPerSec)} ops/s`, `${rate(n.opsPerSec)} ops/s`],
    ['ops per CPU second (median)', rate(p.opsPerCpuSec), rate(n.opsPerCpuSec)],
    ['timed runs', runsCell(p), runsCell(n)],
    ['latency p50/p99/p99.9', latencyCell(p.latency), latencyCell(n.latency)],
    ['latency p99.99 / max', p.latency ? `${us(p.latency.p9999Ns)} / ${us(p.latency.maxNs)} µs` : '-', n.latency ? `${us(n.latency.p9999Ns)} / ${us(n.latency.maxNs)} µs` : '-'],
    ['p99.9 of each latency pass', passesCell(p), passesCell(n)],
    ['trades', int(p.result.trades), int(n.result.trades)],
    ['traded lots', int(p.result.tradedLots), int(n.result.tradedLots)],
    ['trade hash', p.result.tradeHash, n.result.tradeHash],
    ['cancels hit / missed', `${int(p.result.cancelsHit)} / ${int(p.result.cancelsMissed)}`, `${int(n.result.cancelsHit)} / ${int(n.result.cancelsMissed)}`],
    ['resting at end', int(p.result.restingOrders), int(n.result.restingOrders)],
    ['peak RSS (process)', `${mib(p.peakRssBytes)} MiB`, `${mib(n.peakRssBytes)} MiB`],
    ['retained heap, final book', heapCell(p.retainedHeapBytes), heapCell(n.retainedHeapBytes)],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length), 4);
  const w1 = Math.max(...rows.map((x) => x[1].length), p.label.length);
  const w2 = Math.max(...rows.map((x) => x[2].length), n.label.length);
  const line = (a: string, b: string, c: string): string => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c.padStart(w2)}`;
  const out: string[] = [];
  out.push(line('', p.label, n.label));
  out.push(`  ${'-'.repeat(w0 + w1 + w2 + 4)}`);
  for (const [a, b, c] of rows) out.push(line(a, b, c));
  if (p.latencyByKind !== undefined) {
    const k = p.latencyByKind;
    out.push('');
    out.push(`  Parallax latency by operation (p50 / p99 / p99.9 / max, µs):`);
    for (const [name, l] of [['limit', k.limit], ['market', k.market], ['cancel', k.cancel]] as const) {
      out.push(`    ${name.padEnd(7)} ${us(l.p50Ns)} / ${us(l.p99Ns)} / ${us(l.p999Ns)} / ${us(l.maxNs)}  (${int(l.samples)} ops)`);
    }
    out.push(`    timer floor (two back-to-back hrtime.bigint calls): p50 ${us(r.timerFloor.p50Ns)} µs, p99.9 ${us(r.timerFloor.p999Ns)} µs`);
  }
  out.push('');
  out.push(`  Parallax / ${n.label}: ${v.ratio.toFixed(1)}x ops/s (${v.cpuRatio.toFixed(1)}x by CPU time)`);
  out.push(
    `  targets: >= ${rate(TARGET_OPS_PER_SEC)} ops/s ${v.throughputMet ? 'MET' : 'NOT MET'} (${rate(p.opsPerSec)}); ` +
      `p99.9 < ${us(TARGET_P999_NS)} µs ${v.latencyMet ? 'MET' : 'NOT MET'} (${p.latency ? us(p.latency.p999Ns) : '-'} µs)`,
  );
  return out.join('\n');
}

/** History row of one run (also parsed back from the previous docs section). */
export function historyRow(r: BenchReport): string {
  const v = verdict(r);
  const p = r.parallax;
  return (
    `| ${utcStamp(r.date)} | ${r.params.seed} | ${int(r.params.ops)} | ${rate(p.opsPerSec)} | ` +
    `${p.latency ? us(p.latency.p999Ns) : '-'} µs | ${rate(r.reference.opsPerSec)} | ${v.ratio.toFixed(1)}x (${v.cpuRatio.toFixed(1)}x CPU) | ` +
    `${v.throughputMet && v.latencyMet ? 'met' : 'not met'} |`
  );
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

export function renderMarkdown(r: BenchReport, previousHistory: readonly string[]): string {
  const v = verdict(r);
  const p = r.parallax;
  const n = r.reference;
  const e = r.expected;
  const m = r.machine;
  const w = r.params;
  const met = (ok: boolean): string => (ok ? '**met**' : '**not met**');
  const history = [historyRow(r), ...previousHistory].slice(0, HISTORY_ROWS);
  const L: string[] = [];
  L.push('## Order book (`npm run bench:book`)');
  L.push('');
  L.push(
    `Latest run: ${utcStamp(r.date)} on ${m.cpu}, ${m.cpus} CPUs, ${m.memGiB} GiB, Node ${m.node} (${m.platform}), ` +
      `load average ${m.loadAvg.toFixed(2)} at start; ` +
      `seed ${w.seed}, ${int(w.ops)} operations on one market.`,
  );
  L.push('');
  L.push(`| | ${p.label} | ${n.label} |`);
  L.push('|---|---:|---:|');
  L.push(`| throughput (median of timed runs) | **${rate(p.opsPerSec)} ops/s** | ${rate(n.opsPerSec)} ops/s |`);
  L.push(`| operations per CPU second (median) | ${rate(p.opsPerCpuSec)} | ${rate(n.opsPerCpuSec)} |`);
  L.push(`| timed runs (involuntary context switches) | ${runsCell(p)} | ${runsCell(n)} |`);
  L.push(`| latency p50 / p99 / p99.9 | ${latencyCell(p.latency)} | ${latencyCell(n.latency)} |`);
  L.push(
    `| latency p99.99 / max | ${p.latency ? `${us(p.latency.p9999Ns)} / ${us(p.latency.maxNs)} µs` : '-'} | ` +
      `${n.latency ? `${us(n.latency.p9999Ns)} / ${us(n.latency.maxNs)} µs` : '-'} |`,
  );
  L.push(`| p99.9 of each latency pass (involuntary context switches) | ${passesCell(p)} | ${passesCell(n)} |`);
  L.push(`| trades | ${int(p.result.trades)} | ${int(n.result.trades)} |`);
  L.push(`| traded lots | ${int(p.result.tradedLots)} | ${int(n.result.tradedLots)} |`);
  L.push(`| trade hash (maker, taker, price, size) | \`${p.result.tradeHash}\` | \`${n.result.tradeHash}\` |`);
  L.push(`| peak RSS of the process after the book's runs | ${mib(p.peakRssBytes)} MiB | ${mib(n.peakRssBytes)} MiB |`);
  L.push(`| retained heap of the final book | ${heapCell(p.retainedHeapBytes)} | ${heapCell(n.retainedHeapBytes)} |`);
  L.push('');
  L.push(
    `Parallax / ${n.label}: **${v.ratio.toFixed(1)}×** the operations per second ` +
      `(${v.cpuRatio.toFixed(1)}× by CPU time, which discounts the time the shared machine gave to other processes).`,
  );
  L.push('');
  L.push(
    `Targets: ≥ ${rate(TARGET_OPS_PER_SEC)} ops/s ${met(v.throughputMet)} (${rate(p.opsPerSec)}); ` +
      `p99.9 < ${us(TARGET_P999_NS)} µs ${met(v.latencyMet)} (${p.latency ? us(p.latency.p999Ns) : '-'} µs).` +
      (m.loadAvg > m.cpus
        ? ` The machine was oversubscribed when this run started (load average ${m.loadAvg.toFixed(2)} on ${m.cpus} CPUs): ` +
          `wall-clock throughput is depressed by preemption; per CPU second Parallax did ${rate(p.opsPerCpuSec)} operations.`
        : ''),
  );
  if (p.latencyByKind !== undefined) {
    const k = p.latencyByKind;
    L.push('');
    L.push('Parallax latency by operation (µs):');
    L.push('');
    L.push('| operation | count | p50 | p99 | p99.9 | max |');
    L.push('|---|---:|---:|---:|---:|---:|');
    for (const [name, l] of [['limit', k.limit], ['market', k.market], ['cancel', k.cancel]] as const) {
      L.push(`| ${name} | ${int(l.samples)} | ${us(l.p50Ns)} | ${us(l.p99Ns)} | ${us(l.p999Ns)} | ${us(l.maxNs)} |`);
    }
  }
  L.push('');
  L.push(
    `Workload: ${mixLine(e, w.ops)}. Limit prices are integer ticks placed around a fair value that follows a ` +
      `Gaussian random walk (σ ${w.midStep} tick per operation, Box-Muller offsets, mean ${w.limitOffsetMean} ± ${w.limitOffsetSd} ticks ` +
      `behind it, leaning passive or aggressive by up to ${w.depthGain} ticks to hold the book near ${int(w.targetDepth)} resting orders); ` +
      `sizes are 1 + exponential lots (mean ${w.limitSizeMean} limit, ${w.marketSizeMean} market); market orders carry no protection price. ` +
      `The book held ${int(e.meanRestingOrders)} resting orders on average (max ${int(e.maxRestingOrders)}, up to ${int(e.maxLevelQueue)} at one price level; ` +
      `${int(e.restingOrders)} on ${e.finalDepth.bids.length + e.finalDepth.asks.length} levels at the end). ` +
      `Every cancel names an order resting at that moment. Buyers and sellers use disjoint accounts, so self-trade prevention never applies, ` +
      `and the market has no band, minimum or open-order cap, so nothing is rejected.`,
  );
  L.push('');
  L.push(
    `Method: the operation list is generated once (${(r.generationMs / 1000).toFixed(1)} s, seeded sfc32 PRNG, alongside a simple ` +
      `price-time model that knows which orders rest) and replayed identically on both books, in one process. ` +
      `Parallax: one untimed warm-up pass (${int(r.warmupOps)} ops) on a throwaway book, then ${p.runs.length} timed passes ` +
      `over all operations, each on a fresh book with no per-operation timer (median reported), then ${p.latencyPasses.length} latency passes ` +
      `on fresh books timing every operation with \`process.hrtime.bigint()\` (timer floor p50 ${us(r.timerFloor.p50Ns)} µs; the pass with the ` +
      `median p99.9 is reported, the others are listed with the OS preemptions counted during each). Commands are reused mutable objects ` +
      `sent through \`OrderBook.apply\`; the event sink fingerprints every trade and counts cancels and rejects. ` +
      `${n.label}: ${int(r.referenceWarmupOps)} warm-up ops on a throwaway book, then ${n.runs.length} timed pass${n.runs.length > 1 ? 'es' : ''}${n.latencyPasses.length > 0 ? ' and a latency pass' : ''}; its fills are read ` +
      `from the \`done\` / \`partial\` results. A forced GC precedes each timed pass. Peak RSS is \`process.resourceUsage().maxRSS\`, ` +
      `which includes the operation list and latency buffers (${mib(r.baselineRssBytes)} MiB after generation); retained heap is the heap ` +
      `still in use after a GC with the final book alive minus after dropping it.`,
  );
  L.push('');
  L.push(`Checks passed: ${r.checks.join('; ')}.`);
  L.push('');
  L.push('History (most recent first; the machine is shared and noisy, compare ratios within a run):');
  L.push('');
  L.push(`| date | seed | ops | Parallax ops/s | Parallax p99.9 | ${n.label} ops/s | ratio (by CPU time) | targets |`);
  L.push('|---|---:|---:|---:|---:|---:|---:|---|');
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
