// Runs the workload on the Parallax book through its public API, the way the matching engine drives it:
// one reusable mutable command object per command type, `apply()` dispatch, and an event sink that does
// what a consumer must do at minimum (fingerprint trades, count cancels and rejects).

import type { CancelOrder, EventSink, MarketConfig, PlaceOrder, RejectReason, Side as BookSide } from '../index.js';
import { DoneReason, OrderBook, OrderType, Side, StpMode, TimeInForce, rejectReasonName } from '../index.js';
import type { BookRunner, RunResult, TradeRecord } from './runner.js';
import { TradeTape } from './trade-tape.js';
import type { DepthLevel, Workload } from './workload.js';
import { OP_CANCEL, OP_LIMIT, SIDE_BUY } from './workload.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** No rule that could reject a workload order: no band, no minimums, no open-order cap. */
export const BENCH_MARKET: MarketConfig = {
  marketId: 1,
  minSize: 0,
  minNotional: 0,
  maxOpenOrdersPerAccount: 0,
  priceBandBps: 0,
  initialReferencePrice: 0,
};

/** One reusable place command (the book never keeps a reference to a command): a GTC limit buy to fill in. */
export function placeCommand(): Mutable<PlaceOrder> {
  return {
    type: 'place',
    ts: 0,
    orderId: 0,
    accountId: 0,
    side: Side.Buy,
    orderType: OrderType.Limit,
    price: 0,
    size: 0,
    tif: TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.None,
  };
}

class BenchSink implements EventSink {
  readonly tape = new TradeTape();
  cancelled = 0;
  rejects = 0;
  lastReject = '';
  /** Set only while recording a diagnostic trade log. */
  log: TradeRecord[] | null = null;
  op = 0;

  onAccepted(): void {
    /* nothing to do */
  }
  onRejected(_seq: number, _ts: number, _command: number, orderId: number, _accountId: number, reason: RejectReason): void {
    this.rejects++;
    this.lastReject = `${rejectReasonName(reason) ?? String(reason)} (order ${orderId})`;
  }
  onTrade(
    _seq: number,
    _ts: number,
    makerOrderId: number,
    _makerAccountId: number,
    takerOrderId: number,
    _takerAccountId: number,
    _takerSide: BookSide,
    price: number,
    size: number,
  ): void {
    this.tape.add(makerOrderId, takerOrderId, price, size);
    if (this.log !== null) this.log.push({ op: this.op, maker: makerOrderId, taker: takerOrderId, price, size });
  }
  onDone(_seq: number, _ts: number, _orderId: number, _accountId: number, reason: DoneReason): void {
    if (reason === DoneReason.CANCELLED) this.cancelled++;
  }
  onAmended(): void {
    /* nothing to do */
  }
  onLevel(): void {
    /* nothing to do */
  }
}

export class ParallaxRunner implements BookRunner {
  readonly name = 'Parallax';
  private sink = new BenchSink();
  private book = new OrderBook(BENCH_MARKET, this.sink);
  private cancels = 0;
  private readonly place = placeCommand();
  private readonly cancel: Mutable<CancelOrder> = { type: 'cancel', ts: 0, orderId: 0, accountId: 0 };

  /** The book under test (for memory measurement and final-state checks). */
  get orderBook(): OrderBook {
    return this.book;
  }

  reset(): void {
    this.sink = new BenchSink();
    this.book = new OrderBook(BENCH_MARKET, this.sink);
    this.cancels = 0;
  }

  run(w: Workload, from: number, to: number): void {
    const { kind, side, id, price, size, account } = w;
    const book = this.book;
    const place = this.place;
    const cancel = this.cancel;
    for (let i = from; i < to; i++) {
      const k = kind[i]!;
      if (k === OP_CANCEL) {
        cancel.ts = i;
        cancel.orderId = id[i]!;
        cancel.accountId = account[i]!;
        book.apply(cancel);
        this.cancels++;
      } else {
        this.fillPlace(place, k, i, side[i]!, id[i]!, account[i]!, price[i]!, size[i]!);
        book.apply(place);
      }
    }
  }

  runTimed(w: Workload, out: Float64Array): void {
    const { kind, side, id, price, size, account } = w;
    const book = this.book;
    const place = this.place;
    const cancel = this.cancel;
    const now = (): number => performance.now();
    for (let i = 0; i < w.count; i++) {
      const k = kind[i]!;
      if (k === OP_CANCEL) {
        cancel.ts = i;
        cancel.orderId = id[i]!;
        cancel.accountId = account[i]!;
        const t0 = now();
        book.apply(cancel);
        out[i] = (now() - t0) * 1e6;
        this.cancels++;
      } else {
        this.fillPlace(place, k, i, side[i]!, id[i]!, account[i]!, price[i]!, size[i]!);
        const t0 = now();
        book.apply(place);
        out[i] = (now() - t0) * 1e6;
      }
    }
  }

  result(): RunResult {
    const level = (l: { price: number; size: number }): DepthLevel => [l.price, l.size];
    return {
      trades: this.sink.tape.count,
      tradedLots: this.sink.tape.volume,
      tradeHash: this.sink.tape.digest(),
      cancelsHit: this.sink.cancelled,
      cancelsMissed: this.cancels - this.sink.cancelled,
      rejects: this.sink.rejects,
      rejectDetail: this.sink.lastReject,
      restingOrders: this.book.orderCount,
      depth: { bids: this.book.depth(Side.Buy).map(level), asks: this.book.depth(Side.Sell).map(level) },
      stateHash: this.book.stateHash(),
    };
  }

  record(w: Workload): TradeRecord[] {
    this.reset();
    const log: TradeRecord[] = [];
    this.sink.log = log;
    for (let i = 0; i < w.count; i++) {
      this.sink.op = i;
      this.run(w, i, i + 1);
    }
    this.sink.log = null;
    return log;
  }

  private fillPlace(
    place: Mutable<PlaceOrder>,
    k: number,
    i: number,
    s: number,
    orderId: number,
    accountId: number,
    px: number,
    qty: number,
  ): void {
    place.ts = i;
    place.orderId = orderId;
    place.accountId = accountId;
    place.side = s === SIDE_BUY ? Side.Buy : Side.Sell;
    place.size = qty;
    if (k === OP_LIMIT) {
      place.orderType = OrderType.Limit;
      place.price = px;
      place.tif = TimeInForce.GTC;
    } else {
      // a market order without protection price: takes what there is, the rest is released (IOC)
      place.orderType = OrderType.Market;
      place.price = 0;
      place.tif = TimeInForce.IOC;
    }
  }
}
