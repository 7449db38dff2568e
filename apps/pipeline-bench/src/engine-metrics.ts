// The engines' own Prometheus figures (GET <url>/metrics), to split end-to-end time into matching,
// transaction commit and the rest (fetch waits, queueing, the consumer hop).
export interface EngineStats {
  readonly transactions: number;
  readonly transactionSec: number;
  readonly matchBatches: number;
  readonly matchSec: number;
  readonly inputMessages: number;
}

export const emptyStats: EngineStats = { transactions: 0, transactionSec: 0, matchBatches: 0, matchSec: 0, inputMessages: 0 };

function sumOf(text: string, metric: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric} `) || line.startsWith(`${metric}{`)) {
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(v)) n += v;
    }
  }
  return n;
}

/** Scrapes one engine; zeros if it does not answer (killed, or still starting). */
export async function scrapeEngine(url: string): Promise<EngineStats> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) });
    const text = await res.text();
    return {
      transactions: sumOf(text, 'parallax_engine_transaction_seconds_count'),
      transactionSec: sumOf(text, 'parallax_engine_transaction_seconds_sum'),
      matchBatches: sumOf(text, 'parallax_engine_match_latency_seconds_count'),
      matchSec: sumOf(text, 'parallax_engine_match_latency_seconds_sum'),
      inputMessages: sumOf(text, 'parallax_engine_input_messages_total'),
    };
  } catch {
    return emptyStats;
  }
}

export function addStats(a: EngineStats, b: EngineStats): EngineStats {
  return {
    transactions: a.transactions + b.transactions,
    transactionSec: a.transactionSec + b.transactionSec,
    matchBatches: a.matchBatches + b.matchBatches,
    matchSec: a.matchSec + b.matchSec,
    inputMessages: a.inputMessages + b.inputMessages,
  };
}

export async function scrapeAll(urls: readonly string[]): Promise<EngineStats> {
  const all = await Promise.all(urls.map(scrapeEngine));
  return all.reduce(addStats, emptyStats);
}

/** The cumulative buckets of a Prometheus histogram: [upper bound (s), count], by bound. */
export function histogramBuckets(metrics: string, name: string): [number, number][] {
  const buckets: [number, number][] = [];
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    buckets.push([le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1))]);
  }
  return buckets.sort((a, b) => a[0] - b[0]);
}

/** What was observed between two readings of the same histogram's buckets. */
export function bucketsSince(after: readonly [number, number][], before: readonly [number, number][]): [number, number][] {
  const was = new Map(before);
  return after.map(([le, n]) => [le, n - (was.get(le) ?? 0)]);
}

/** The q-quantile of cumulative buckets as the upper bound of its bucket (ms). */
export function quantileMs(buckets: readonly [number, number][], q: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  for (const [le, n] of buckets) if (n >= q * total) return le * 1000;
  return Infinity;
}
