// Runs the workload on nodejs-order-book (npm), the reference point for the Parallax book.
//
// How it reports fills (read from its sources, v10.1.1): every call returns an IProcessOrder where
// `done` lists the makers filled completely, in fill order, each with `size` = the lots it traded (plus,
// for a limit taker that was filled completely, the taker itself), and `partial` is the last maker
// touched if it was filled only partly, `partialQuantityProcessed` being the lots it traded; when the
// taker itself rests after trading, `partial` is the taker. Trades execute at the maker's price.

import { createRequire } from 'node:module';
import { OrderBook, Side } from 'nodejs-order-book';
import type { IProcessOrder, LimitOrderOptions, MarketOrderOptions } from 'nodejs-order-book';
import type { BookRunner, RunResult, TradeRecord } from './runner.js';
import { TradeTape } from './trade-tape.js';
import type { DepthLevel, Workload } from './workload.js';
import { OP_CANCEL, OP_LIMIT, SIDE_BUY } from './workload.js';

type LimitOrderView = NonNullable<IProcessOrder['partial']>;

export function nodejsOrderBookVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('nodejs-order-book/package.json') as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export class NodejsOrderBookRunner implements BookRunner {
  readonly name = 'nodejs-order-book';
  private book = new OrderBook();
  private tape = new TradeTape();
  private cancelsHit = 0;
  private cancelsMissed = 0;
  private errors = 0;
  private lastError = '';
  private log: TradeRecord[] | null = null;
  private op = 0;

  reset(): void {
    this.book = new OrderBook();
    this.tape = new TradeTape();
    this.cancelsHit = 0;
    this.cancelsMissed = 0;
    this.errors = 0;
    this.lastError = '';
    this.log = null;
  }

  run(w: Workload, from: number, to: number): void {
    const { kind, side, id, price, size } = w;
    const book = this.book;
    for (let i = from; i < to; i++) {
      const k = kind[i]!;
      if (k === OP_CANCEL) {
        if (book.cancel(String(id[i]!)) === undefined) this.cancelsMissed++;
        else this.cancelsHit++;
      } else if (k === OP_LIMIT) {
        const options: LimitOrderOptions = {
          id: String(id[i]!),
          side: side[i] === SIDE_BUY ? Side.BUY : Side.SELL,
          size: size[i]!,
          price: price[i]!,
        };
        this.collect(book.limit(options), id[i]!);
      } else {
        const options: MarketOrderOptions = { side: side[i] === SIDE_BUY ? Side.BUY : Side.SELL, size: size[i]! };
        this.collect(book.market(options), id[i]!);
      }
    }
  }

  runTimed(w: Workload, out: Float64Array): void {
    const { kind, side, id, price, size } = w;
    const book = this.book;
    const now = (): number => performance.now();
    for (let i = 0; i < w.count; i++) {
      const k = kind[i]!;
      if (k === OP_CANCEL) {
        const orderId = String(id[i]!);
        const t0 = now();
        const r = book.cancel(orderId);
        out[i] = (now() - t0) * 1e6;
        if (r === undefined) this.cancelsMissed++;
        else this.cancelsHit++;
      } else if (k === OP_LIMIT) {
        const options: LimitOrderOptions = {
          id: String(id[i]!),
          side: side[i] === SIDE_BUY ? Side.BUY : Side.SELL,
          size: size[i]!,
          price: price[i]!,
        };
        const t0 = now();
        const r = book.limit(options);
        out[i] = (now() - t0) * 1e6;
        this.collect(r, id[i]!);
      } else {
        const options: MarketOrderOptions = { side: side[i] === SIDE_BUY ? Side.BUY : Side.SELL, size: size[i]! };
        const t0 = now();
        const r = book.market(options);
        out[i] = (now() - t0) * 1e6;
        this.collect(r, id[i]!);
      }
    }
  }

  result(): RunResult {
    const [asks, bids] = this.book.depth();
    const level = ([p, s]: [number, number]): DepthLevel => [p, s];
    // depth() has volumes only; count the orders through a snapshot (outside any timed section)
    const snap = this.book.snapshot();
    let resting = 0;
    for (const l of snap.bids) resting += l.orders.length;
    for (const l of snap.asks) resting += l.orders.length;
    return {
      trades: this.tape.count,
      tradedLots: this.tape.volume,
      tradeHash: this.tape.digest(),
      cancelsHit: this.cancelsHit,
      cancelsMissed: this.cancelsMissed,
      rejects: this.errors,
      rejectDetail: this.lastError,
      restingOrders: resting,
      depth: { bids: bids.map(level), asks: asks.map(level) },
      stateHash: undefined,
    };
  }

  record(w: Workload): TradeRecord[] {
    this.reset();
    const log: TradeRecord[] = [];
    this.log = log;
    for (let i = 0; i < w.count; i++) {
      this.op = i;
      this.run(w, i, i + 1);
    }
    this.log = null;
    return log;
  }

  private collect(r: IProcessOrder, takerId: number): void {
    if (r.err !== null) {
      this.errors++;
      this.lastError = `${r.err.code} ${r.err.message}`;
      return;
    }
    for (const o of r.done) {
      const makerId = Number(o.id);
      if (makerId === takerId) continue;
      const maker = o as LimitOrderView;
      this.trade(makerId, takerId, maker.price, maker.size);
    }
    const p = r.partial;
    if (p !== null && r.partialQuantityProcessed > 0) {
      const makerId = Number(p.id);
      if (makerId !== takerId) this.trade(makerId, takerId, p.price, r.partialQuantityProcessed);
    }
  }

  private trade(maker: number, taker: number, price: number, size: number): void {
    this.tape.add(maker, taker, price, size);
    if (this.log !== null) this.log.push({ op: this.op, maker, taker, price, size });
  }
}
