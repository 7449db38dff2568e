// Latency percentiles and number formatting for the benchmark report.

export interface LatencySummary {
  readonly samples: number;
  readonly meanNs: number;
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  readonly p999Ns: number;
  readonly p9999Ns: number;
  readonly maxNs: number;
}

/** Summarise latencies (ns); `select` keeps only the samples whose index it accepts. */
export function summarize(latenciesNs: Float64Array, select?: (index: number) => boolean): LatencySummary {
  let picked: Float64Array;
  if (select === undefined) {
    picked = Float64Array.from(latenciesNs);
  } else {
    const tmp: number[] = [];
    for (let i = 0; i < latenciesNs.length; i++) if (select(i)) tmp.push(latenciesNs[i]!);
    picked = Float64Array.from(tmp);
  }
  picked.sort();
  let sum = 0;
  for (const v of picked) sum += v;
  const n = picked.length;
  return {
    samples: n,
    meanNs: n > 0 ? sum / n : 0,
    p50Ns: percentile(picked, 0.5),
    p90Ns: percentile(picked, 0.9),
    p99Ns: percentile(picked, 0.99),
    p999Ns: percentile(picked, 0.999),
    p9999Ns: percentile(picked, 0.9999),
    maxNs: n > 0 ? picked[n - 1]! : 0,
  };
}

/** Nearest-rank percentile of an ascending array (q in [0, 1]). */
export function percentile(sortedAsc: Float64Array, q: number): number {
  const n = sortedAsc.length;
  if (n === 0) return 0;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sortedAsc[rank - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** 1234567 -> "1,234,567". */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Operations per second, compact: 2.61M, 81.2k. */
export function rate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)}M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)}k`;
  return opsPerSec.toFixed(0);
}

/** Nanoseconds as microseconds with sensible precision. */
export function us(ns: number): string {
  const v = ns / 1000;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
