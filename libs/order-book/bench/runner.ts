// What the benchmark needs from a book under test. Each implementation keeps its own monomorphic
// replay loop (no shared dispatch through this interface inside the timed loops).

import type { Depth, Workload } from './workload.js';

export interface RunResult {
  readonly trades: number;
  readonly tradedLots: number;
  readonly tradeHash: string;
  /** Cancels that removed a resting order / that found nothing to cancel. */
  readonly cancelsHit: number;
  readonly cancelsMissed: number;
  /** Commands the book refused (the workload is built so that there are none). */
  readonly rejects: number;
  readonly rejectDetail: string;
  readonly restingOrders: number;
  readonly depth: Depth;
  /** The book's own state hash, when it has one (same ops => same hash, run after run). */
  readonly stateHash: string | undefined;
}

/** One trade with the index of the operation that produced it (diagnostics only). */
export interface TradeRecord {
  readonly op: number;
  readonly maker: number;
  readonly taker: number;
  readonly price: number;
  readonly size: number;
}

export interface BookRunner {
  readonly name: string;
  /** Start over with an empty book and zeroed counters. */
  reset(): void;
  /** Apply operations [from, to) of the workload as fast as possible. */
  run(w: Workload, from: number, to: number): void;
  /** Apply every operation, writing each one's wall time in nanoseconds into out[i]. */
  runTimed(w: Workload, out: Float64Array): void;
  /** Counters and final state of the book since the last reset(). */
  result(): RunResult;
  /** Replay the whole workload on a fresh book, recording every trade (used to explain a mismatch). */
  record(w: Workload): TradeRecord[];
}
