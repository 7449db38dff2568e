// The "limit" line of the benchmark: a plain-JavaScript price-time book written for the benchmark only,
// as a competent programmer would write it when nothing but matching is asked for: integer ticks, per
// side a sorted array of levels with the best last, an intrusive FIFO per level, a Map from order id to
// order, pooled order objects. No accounts, no events, no sequence numbers, no hash, no validation.
// It must still produce exactly the workload model's trades (checked like every other book), so the
// Parallax book's ratio to it is the price of Parallax's features and layout, not of different work.

import type { BookRunner, RunResult, TradeRecord } from './runner.js';
import { TradeTape } from './trade-tape.js';
import type { DepthLevel, Workload } from './workload.js';
import { OP_CANCEL, OP_LIMIT, SIDE_BUY } from './workload.js';

class PlainOrder {
  id = 0;
  remaining = 0;
  prev: PlainOrder | null = null;
  next: PlainOrder | null = null;
  level: PlainLevel | null = null;
}

class PlainLevel {
  /** price for bids, -price for asks: ascending keys, best last. */
  key = 0;
  price = 0;
  total = 0;
  head: PlainOrder | null = null;
  tail: PlainOrder | null = null;
  constructor(readonly levels: PlainLevel[]) {}
}

class PlainBook {
  readonly bids: PlainLevel[] = [];
  readonly asks: PlainLevel[] = [];
  readonly byId = new Map<number, PlainOrder>();
  readonly tape = new TradeTape();
  cancelsHit = 0;
  cancelsMissed = 0;
  log: TradeRecord[] | null = null;
  op = 0;
  private readonly pool: PlainOrder[] = [];

  /** A limit (price > 0) or market (price 0) order: trades at makers' prices, a limit remainder rests. */
  take(buy: boolean, id: number, size: number, price: number): void {
    const opp = buy ? this.asks : this.bids;
    let left = size;
    while (left > 0 && opp.length > 0) {
      const lvl = opp[opp.length - 1]!;
      if (price > 0 && (buy ? lvl.price > price : lvl.price < price)) break;
      let m = lvl.head;
      while (m !== null && left > 0) {
        const q = m.remaining < left ? m.remaining : left;
        m.remaining -= q;
        left -= q;
        lvl.total -= q;
        this.tape.add(m.id, id, lvl.price, q);
        if (this.log !== null) this.log.push({ op: this.op, maker: m.id, taker: id, price: lvl.price, size: q });
        if (m.remaining > 0) break; // the taker is done; this maker stays at the head
        const next = m.next;
        this.byId.delete(m.id);
        this.pool.push(m);
        m = next;
      }
      lvl.head = m;
      if (m === null) {
        lvl.tail = null;
        opp.pop();
      } else {
        m.prev = null;
      }
    }
    if (left > 0 && price > 0) this.rest(buy, id, left, price);
  }

  cancel(id: number): void {
    const o = this.byId.get(id);
    if (o === undefined) {
      this.cancelsMissed++;
      return;
    }
    this.cancelsHit++;
    this.byId.delete(id);
    const lvl = o.level!;
    if (o.prev === null) lvl.head = o.next;
    else o.prev.next = o.next;
    if (o.next === null) lvl.tail = o.prev;
    else o.next.prev = o.prev;
    lvl.total -= o.remaining;
    if (lvl.head === null) {
      const levels = lvl.levels;
      const i = lowerBound(levels, lvl.key);
      levels.splice(i, 1);
    }
    this.pool.push(o);
  }

  private rest(buy: boolean, id: number, size: number, price: number): void {
    const levels = buy ? this.bids : this.asks;
    const key = buy ? price : -price;
    let lvl: PlainLevel;
    const n = levels.length;
    if (n > 0 && levels[n - 1]!.key === key) {
      lvl = levels[n - 1]!;
    } else {
      const i = lowerBound(levels, key);
      if (i < n && levels[i]!.key === key) {
        lvl = levels[i]!;
      } else {
        lvl = new PlainLevel(levels);
        lvl.key = key;
        lvl.price = price;
        levels.splice(i, 0, lvl);
      }
    }
    const o = this.pool.pop() ?? new PlainOrder();
    o.id = id;
    o.remaining = size;
    o.level = lvl;
    o.next = null;
    o.prev = lvl.tail;
    if (lvl.tail === null) lvl.head = o;
    else lvl.tail.next = o;
    lvl.tail = o;
    lvl.total += size;
    this.byId.set(id, o);
  }
}

function lowerBound(levels: readonly PlainLevel[], key: number): number {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (levels[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class PlainRunner implements BookRunner {
  readonly name = 'plain reference';
  private book = new PlainBook();

  reset(): void {
    this.book = new PlainBook();
  }

  run(w: Workload, from: number, to: number): void {
    const { kind, side, id, price, size } = w;
    const book = this.book;
    for (let i = from; i < to; i++) {
      const k = kind[i]!;
      if (k === OP_CANCEL) book.cancel(id[i]!);
      else book.take(side[i] === SIDE_BUY, id[i]!, size[i]!, k === OP_LIMIT ? price[i]! : 0);
    }
  }

  runTimed(w: Workload, out: Float64Array): void {
    const { kind, side, id, price, size } = w;
    const book = this.book;
    const now = (): number => performance.now();
    for (let i = 0; i < w.count; i++) {
      const k = kind[i]!;
      if (k === OP_CANCEL) {
        const t0 = now();
        book.cancel(id[i]!);
        out[i] = (now() - t0) * 1e6;
      } else {
        const t0 = now();
        book.take(side[i] === SIDE_BUY, id[i]!, size[i]!, k === OP_LIMIT ? price[i]! : 0);
        out[i] = (now() - t0) * 1e6;
      }
    }
  }

  result(): RunResult {
    const b = this.book;
    const depth = (levels: readonly PlainLevel[]): DepthLevel[] => {
      const out: DepthLevel[] = [];
      for (let i = levels.length - 1; i >= 0; i--) out.push([levels[i]!.price, levels[i]!.total]);
      return out;
    };
    return {
      trades: b.tape.count,
      tradedLots: b.tape.volume,
      tradeHash: b.tape.digest(),
      cancelsHit: b.cancelsHit,
      cancelsMissed: b.cancelsMissed,
      rejects: 0,
      rejectDetail: '',
      restingOrders: b.byId.size,
      depth: { bids: depth(b.bids), asks: depth(b.asks) },
      stateHash: undefined,
    };
  }

  record(w: Workload): TradeRecord[] {
    this.reset();
    const log: TradeRecord[] = [];
    this.book.log = log;
    for (let i = 0; i < w.count; i++) {
      this.book.op = i;
      this.run(w, i, i + 1);
    }
    this.book.log = null;
    return log;
  }
}
