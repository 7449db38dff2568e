// Book diffs per market, merged over a short window before they go out. At thousands of engine batches a
// second, one WebSocket message per batch per subscriber is more messages than one gateway thread can frame
// (1,000 subscribers x 5,000 updates/s = 5M sends/s); merged, a market sends at most one diff per window, and
// each diff is serialised once for all its subscribers. When the market has been quiet for a window, a diff
// leaves at once (on the next turn of the event loop, so the batches of one consumer read still merge).
//
// A merged diff carries the sequence range it covers (prevSeq of its first batch, seq of its last) and each
// changed level's latest amount ("0" = gone, also for a level that came and went within the window): a client
// applies it exactly like a single batch's diff, and the checksum is the one after its last batch.
import type { BookDiff } from '../market-data/market-state.js';

export interface MergedDiff {
  readonly marketId: number;
  readonly prevSeq: number;
  seq: number;
  /** Engine time (ms) of the first and the last merged batch. */
  readonly firstTs: number;
  ts: number;
  /** Engine batches merged. */
  batches: number;
  /** price ticks -> latest size in lots (0 = gone). */
  readonly bids: Map<number, number>;
  readonly asks: Map<number, number>;
}

type Timer = { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timeout'; handle: NodeJS.Timeout };

export class BookCoalescer {
  private readonly pending = new Map<number, MergedDiff>();
  private readonly lastSent = new Map<number, number>();
  private readonly timers = new Map<number, Timer>();

  private readonly windowMs: () => number;

  /**
   * @param windowMs at most one diff per market per window (0: one per event-loop turn); a function is asked
   *   each time a window starts (the fan-out's window grows with its subscribers, fanout-policy.ts).
   * @param emit receives each merged diff (synchronously from flush, or from the timer).
   */
  constructor(
    windowMs: number | (() => number),
    private readonly emit: (diff: MergedDiff) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.windowMs = typeof windowMs === 'number' ? () => windowMs : windowMs;
  }

  add(d: BookDiff): void {
    let p = this.pending.get(d.marketId);
    // Batches arrive in sequence; should one not continue the pending diff, the pending one goes out first
    // rather than claim a continuity it does not have (the client then sees the gap and resyncs).
    if (p !== undefined && d.prevSeq !== p.seq) {
      this.flush(d.marketId);
      p = undefined;
    }
    if (p === undefined) {
      p = { marketId: d.marketId, prevSeq: d.prevSeq, seq: d.seq, firstTs: d.ts, ts: d.ts, batches: 0, bids: new Map(), asks: new Map() };
      this.pending.set(d.marketId, p);
    }
    p.seq = d.seq;
    p.ts = d.ts;
    p.batches++;
    for (const [price, size] of d.bids) p.bids.set(price, size);
    for (const [price, size] of d.asks) p.asks.set(price, size);
    this.schedule(d.marketId);
  }

  /** Sends the market's pending diff now (before a snapshot, so the snapshot and the next diff line up). */
  flush(marketId: number): void {
    this.cancel(marketId);
    const p = this.pending.get(marketId);
    if (p === undefined) return;
    this.pending.delete(marketId);
    this.lastSent.set(marketId, this.now());
    this.emit(p);
  }

  /** Forgets the market's pending diff (nobody subscribed is left to send it to). */
  drop(marketId: number): void {
    this.cancel(marketId);
    this.pending.delete(marketId);
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.drop(id);
  }

  private schedule(marketId: number): void {
    if (this.timers.has(marketId)) return;
    const wait = (this.lastSent.get(marketId) ?? -Infinity) + this.windowMs() - this.now();
    const run = (): void => {
      this.timers.delete(marketId);
      this.flush(marketId);
    };
    this.timers.set(marketId, wait <= 0 ? { kind: 'immediate', handle: setImmediate(run) } : { kind: 'timeout', handle: setTimeout(run, Math.ceil(wait)) });
  }

  private cancel(marketId: number): void {
    const t = this.timers.get(marketId);
    if (t === undefined) return;
    this.timers.delete(marketId);
    if (t.kind === 'immediate') clearImmediate(t.handle);
    else clearTimeout(t.handle);
  }
}
