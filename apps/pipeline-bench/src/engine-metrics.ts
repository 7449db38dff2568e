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
