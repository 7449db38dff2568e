// Consistency checks of a benchmark run: every book must reproduce the workload model exactly.

import type { RunResult, TradeRecord } from './runner.js';
import { int } from './stats.js';
import type { Depth, Workload } from './workload.js';

/** Everything a run of a book must satisfy against the generator's model; returns the failures. */
export function checkRun(book: string, r: RunResult, w: Workload): string[] {
  const e = w.expected;
  const f: string[] = [];
  if (r.trades <= 0) f.push(`${book}: produced no trades`);
  if (r.trades !== e.trades || r.tradeHash !== e.tradeHash || r.tradedLots !== e.tradedLots) {
    f.push(
      `${book}: trades ${int(r.trades)} (${int(r.tradedLots)} lots, hash ${r.tradeHash}) differ from the workload model's ` +
        `${int(e.trades)} (${int(e.tradedLots)} lots, hash ${e.tradeHash})`,
    );
  }
  if (r.cancelsHit !== e.cancels || r.cancelsMissed !== 0) {
    f.push(`${book}: ${int(r.cancelsHit)} cancels removed a resting order and ${int(r.cancelsMissed)} found none (expected ${int(e.cancels)} / 0)`);
  }
  if (r.rejects !== 0) f.push(`${book}: ${int(r.rejects)} commands rejected (last: ${r.rejectDetail})`);
  if (r.restingOrders !== e.restingOrders) f.push(`${book}: ${int(r.restingOrders)} orders rest at the end, model has ${int(e.restingOrders)}`);
  const d = depthDiff(r.depth, e.finalDepth);
  if (d !== undefined) f.push(`${book}: final depth differs from the model: ${d}`);
  return f;
}

export function depthDiff(a: Depth, b: Depth): string | undefined {
  for (const side of ['bids', 'asks'] as const) {
    const x = a[side];
    const y = b[side];
    const n = Math.max(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const p = x[i];
      const q = y[i];
      if (p?.[0] !== q?.[0] || p?.[1] !== q?.[1]) {
        return `${side} level ${i}: ${p ? `${p[1]}@${p[0]}` : 'none'} vs ${q ? `${q[1]}@${q[0]}` : 'none'} (${x.length} vs ${y.length} levels)`;
      }
    }
  }
  return undefined;
}

/** Index of the first trade where two logs differ (including one being shorter), or -1 if identical. */
export function firstTradeDifference(x: readonly TradeRecord[], y: readonly TradeRecord[]): number {
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i];
    const q = y[i];
    if (p?.op !== q?.op || p?.maker !== q?.maker || p?.taker !== q?.taker || p?.price !== q?.price || p?.size !== q?.size) return i;
  }
  return -1;
}
