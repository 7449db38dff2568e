// A deliberately simple reference model of the order book, written from the README's rules and nothing
// else: one flat array of resting orders, linear scans and sorts, BigInt for the price band. It is slow
// on purpose; property tests drive it and the real book with the same commands and require identical
// events. It shares only the public constants and event shapes with the implementation.
import type { Command, PlaceOrder, AmendOrder, BookEvent, MarketConfig } from '../index.js';
import { AmendReason, CommandType, DoneReason, OrderType, RejectReason, Side, StpMode, TimeInForce } from '../index.js';

interface RestingOrder {
  id: number;
  account: number;
  side: Side;
  price: number;
  remaining: number;
  tif: TimeInForce;
  expiresAt: number;
  stp: StpMode;
  postOnly: boolean;
  /** Queue priority: smaller = earlier. */
  time: number;
}

/** The taker while it matches (a new order, or a resting order re-entering after a price amend). */
interface Taker {
  id: number;
  account: number;
  side: Side;
  price: number;
  remaining: number;
  stp: StpMode;
}

const MAX = Number.MAX_SAFE_INTEGER;
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
const clean = (x: unknown): number => (isInt(x) && x >= 0 ? x : 0);

export class ReferenceBook {
  events: BookEvent[] = [];
  resting: RestingOrder[] = [];
  seq = 0;
  now = 0;
  lastPrice = 0;
  private clockTick = 0;
  /** Largest accepted id per source (orderIdSources, or uniqueOrderIds = one source). */
  private readonly marks = new Map<number, number>();

  constructor(readonly config: MarketConfig) {}

  private sources(): number {
    return this.config.orderIdSources ?? (this.config.uniqueOrderIds === true ? 1 : 0);
  }

  apply(cmd: Command): BookEvent[] {
    const start = this.events.length;
    const ctype =
      cmd.type === 'place'
        ? CommandType.Place
        : cmd.type === 'cancel'
          ? CommandType.Cancel
          : cmd.type === 'cancelAll'
            ? CommandType.CancelAll
            : cmd.type === 'amend'
              ? CommandType.Amend
              : CommandType.Expire;
    const orderId = 'orderId' in cmd ? clean(cmd.orderId) : 0;
    const accountId = 'accountId' in cmd ? clean(cmd.accountId) : 0;
    if (!isInt(cmd.ts) || cmd.ts < 0) {
      this.push({ type: 'rejected', seq: 0, ts: this.now, command: ctype, orderId, accountId, reason: RejectReason.INVALID_TIMESTAMP });
    } else if (cmd.ts < this.now) {
      this.push({ type: 'rejected', seq: 0, ts: this.now, command: ctype, orderId, accountId, reason: RejectReason.TIMESTAMP_REGRESSION });
    } else if ((this.config.maxTimestampStep ?? 0) > 0 && this.now > 0 && cmd.ts - this.now > (this.config.maxTimestampStep ?? 0)) {
      this.push({ type: 'rejected', seq: 0, ts: this.now, command: ctype, orderId, accountId, reason: RejectReason.TIMESTAMP_TOO_FAR_AHEAD });
    } else {
      this.now = cmd.ts;
      this.expireDue();
      switch (cmd.type) {
        case 'place':
          this.place(cmd);
          break;
        case 'cancel': {
          const o = this.resting.find((r) => r.id === cmd.orderId);
          if (o === undefined) this.reject(CommandType.Cancel, orderId, accountId, RejectReason.ORDER_NOT_FOUND);
          else if (o.account !== cmd.accountId) this.reject(CommandType.Cancel, orderId, accountId, RejectReason.NOT_ORDER_OWNER);
          else this.removeWithEvents(o, DoneReason.CANCELLED);
          break;
        }
        case 'cancelAll': {
          if (!isInt(cmd.accountId) || cmd.accountId < 0) {
            this.reject(CommandType.CancelAll, 0, 0, RejectReason.INVALID_ACCOUNT_ID);
            break;
          }
          const mine = this.resting.filter((r) => r.account === cmd.accountId).sort((a, b) => a.id - b.id);
          for (const o of mine) this.removeWithEvents(o, DoneReason.CANCELLED);
          break;
        }
        case 'amend':
          this.amend(cmd);
          break;
        case 'expire':
          break;
      }
    }
    return this.events.slice(start);
  }

  // ------------------------------------------------------------------ helpers

  private push(e: BookEvent): void {
    this.events.push({ ...e, seq: ++this.seq });
  }
  private reject(command: CommandType, orderId: number, accountId: number, reason: RejectReason): void {
    this.push({ type: 'rejected', seq: 0, ts: this.now, command, orderId, accountId, reason });
  }
  private done(id: number, account: number, reason: DoneReason, remaining: number): void {
    this.push({ type: 'done', seq: 0, ts: this.now, orderId: id, accountId: account, reason, remaining });
  }
  private levelTotal(side: Side, price: number): number {
    let s = 0;
    for (const r of this.resting) if (r.side === side && r.price === price) s += r.remaining;
    return s;
  }
  private level(side: Side, price: number): void {
    this.push({ type: 'level', seq: 0, ts: this.now, side, price, size: this.levelTotal(side, price) });
  }
  private remove(o: RestingOrder): void {
    this.resting = this.resting.filter((r) => r !== o);
  }
  private removeWithEvents(o: RestingOrder, reason: DoneReason): void {
    this.remove(o);
    this.done(o.id, o.account, reason, o.remaining);
    this.level(o.side, o.price);
  }

  private expireDue(): void {
    const due = this.resting
      .filter((r) => r.tif === TimeInForce.GTT && r.expiresAt <= this.now)
      .sort((a, b) => a.expiresAt - b.expiresAt || a.id - b.id);
    for (const o of due) this.removeWithEvents(o, DoneReason.EXPIRED);
  }

  private reference(): number {
    return this.lastPrice > 0 ? this.lastPrice : this.config.initialReferencePrice;
  }

  /** [low, high] allowed prices, or undefined when there is no band. */
  private band(): [number, number] | undefined {
    const bps = this.config.priceBandBps;
    const ref = this.reference();
    if (bps === 0 || ref === 0) return undefined;
    const w = Number((BigInt(ref) * BigInt(bps)) / 10000n);
    return [ref - w, ref + w];
  }

  private sideSize(side: Side): number {
    let s = 0;
    for (const r of this.resting) if (r.side === side) s += r.remaining;
    return s;
  }

  /** Opposite resting orders the taker may trade with, best price first, then time. */
  private eligible(side: Side, limit: number | undefined): RestingOrder[] {
    return this.resting
      .filter((r) => r.side !== side && (limit === undefined || (side === Side.Buy ? r.price <= limit : r.price >= limit)))
      .sort((a, b) => (side === Side.Buy ? a.price - b.price : b.price - a.price) || a.time - b.time);
  }

  // ------------------------------------------------------------------ place

  private place(c: PlaceOrder): void {
    const cfg = this.config;
    const limit = c.orderType === OrderType.Limit;
    const restable = limit && (c.tif === TimeInForce.GTC || c.tif === TimeInForce.GTT);
    const validTif = limit
      ? [TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTT].includes(c.tif)
      : c.tif === TimeInForce.IOC || c.tif === TimeInForce.FOK;
    const band = this.band();
    const checks: [() => boolean, RejectReason][] = [
      [() => !(isInt(c.orderId) && c.orderId > 0), RejectReason.INVALID_ORDER_ID],
      [() => !(isInt(c.accountId) && c.accountId >= 0), RejectReason.INVALID_ACCOUNT_ID],
      [() => !([Side.Buy, Side.Sell] as number[]).includes(c.side), RejectReason.INVALID_SIDE],
      [() => !([OrderType.Limit, OrderType.Market] as number[]).includes(c.orderType), RejectReason.INVALID_ORDER_TYPE],
      [() => !validTif, RejectReason.INVALID_TIME_IN_FORCE],
      [() => !(Object.values(StpMode) as number[]).includes(c.stp), RejectReason.INVALID_STP_MODE],
      [() => !(isInt(c.size) && c.size > 0), RejectReason.INVALID_SIZE],
      [() => !(isInt(c.price) && (c.price > 0 || (!limit && c.price === 0))), RejectReason.INVALID_PRICE],
      [() => c.tif === TimeInForce.GTT ? !(isInt(c.expiresAt) && c.expiresAt >= 0) : c.expiresAt !== 0, RejectReason.INVALID_EXPIRY],
      [() => c.tif === TimeInForce.GTT && c.expiresAt <= this.now, RejectReason.EXPIRY_NOT_IN_FUTURE],
      [() => c.postOnly && !restable, RejectReason.POST_ONLY_NOT_ALLOWED],
      [() => limit && BigInt(c.price) * BigInt(c.size) > BigInt(MAX), RejectReason.NOTIONAL_OUT_OF_RANGE],
      [() => this.resting.some((r) => r.id === c.orderId), RejectReason.DUPLICATE_ORDER_ID],
      [() => this.sources() > 0 && c.orderId <= (this.marks.get(c.orderId % this.sources()) ?? 0), RejectReason.ORDER_ID_REUSED],
      [() => c.size < cfg.minSize, RejectReason.SIZE_BELOW_MINIMUM],
      [() => limit && c.price * c.size < cfg.minNotional, RejectReason.NOTIONAL_BELOW_MINIMUM],
      [() => limit && band !== undefined && (c.price < band[0] || c.price > band[1]), RejectReason.PRICE_OUT_OF_BAND],
      [
        () =>
          restable &&
          cfg.maxOpenOrdersPerAccount > 0 &&
          this.resting.filter((r) => r.account === c.accountId).length >= cfg.maxOpenOrdersPerAccount,
        RejectReason.TOO_MANY_OPEN_ORDERS,
      ],
      [() => restable && BigInt(this.sideSize(c.side)) + BigInt(c.size) > BigInt(MAX), RejectReason.BOOK_SIZE_OUT_OF_RANGE],
    ];
    for (const [bad, reason] of checks) {
      if (bad()) {
        this.reject(CommandType.Place, clean(c.orderId), clean(c.accountId), reason);
        return;
      }
    }
    // Effective limit: the limit price; for market orders the protection price (if any) tightened by the band.
    let lim: number | undefined = limit ? c.price : c.price === 0 ? undefined : c.price;
    if (!limit && band !== undefined) {
      if (c.side === Side.Buy) lim = lim === undefined ? band[1] : Math.min(lim, band[1]);
      else lim = lim === undefined ? band[0] : Math.max(lim, band[0]);
    }
    if (c.postOnly && this.eligible(c.side, lim).length > 0) {
      this.reject(CommandType.Place, c.orderId, c.accountId, RejectReason.POST_ONLY_WOULD_TAKE);
      return;
    }
    if (this.sources() > 0) {
      const src = c.orderId % this.sources();
      this.marks.set(src, Math.max(this.marks.get(src) ?? 0, c.orderId));
    }
    this.push({
      type: 'accepted',
      seq: 0,
      ts: this.now,
      orderId: c.orderId,
      accountId: c.accountId,
      side: c.side,
      orderType: c.orderType,
      tif: c.tif,
      price: c.price,
      size: c.size,
    });
    const t: Taker = { id: c.orderId, account: c.accountId, side: c.side, price: c.price, remaining: c.size, stp: c.stp };
    if (c.tif === TimeInForce.FOK && !this.canFillCompletely(t, lim)) {
      this.done(t.id, t.account, DoneReason.KILLED, c.size);
      return;
    }
    const stoppedRelease = this.match(t, lim);
    if (stoppedRelease !== undefined) this.done(t.id, t.account, DoneReason.SELF_TRADE, stoppedRelease);
    else if (t.remaining === 0) this.done(t.id, t.account, DoneReason.FILLED, 0);
    else if (restable) {
      this.resting.push({
        id: t.id,
        account: t.account,
        side: t.side,
        price: t.price,
        remaining: t.remaining,
        tif: c.tif,
        expiresAt: c.expiresAt,
        stp: c.stp,
        postOnly: c.postOnly,
        time: ++this.clockTick,
      });
      this.level(t.side, t.price);
    } else this.done(t.id, t.account, DoneReason.UNFILLED, t.remaining);
  }

  /** Simulates matching on a copy: does the taker trade its whole size? */
  private canFillCompletely(t: Taker, limit: number | undefined): boolean {
    let traded = 0;
    for (const m of this.eligible(t.side, limit)) {
      if (m.account === t.account && t.stp !== StpMode.None) {
        if (t.stp === StpMode.CancelOldest) continue;
        return false; // newest / both / decrement end or shrink the taker before a full fill
      }
      traded += m.remaining;
      if (traded >= t.remaining) return true;
    }
    return false;
  }

  /**
   * Matches the taker. Returns the size released by self-trade prevention when it ended the taker
   * (the caller emits the taker's done), undefined otherwise.
   */
  private match(t: Taker, limit: number | undefined): number | undefined {
    const opp: Side = t.side === Side.Buy ? Side.Sell : Side.Buy;
    for (;;) {
      if (t.remaining === 0) return undefined;
      const queue = this.eligible(t.side, limit);
      const best = queue[0];
      if (best === undefined) return undefined;
      const price = best.price;
      let touched = false;
      let stopped: number | undefined;
      for (const m of queue.filter((r) => r.price === price)) {
        if (t.remaining === 0) break;
        if (m.account === t.account && t.stp !== StpMode.None) {
          if (t.stp === StpMode.CancelNewest) {
            stopped = t.remaining;
            break;
          }
          touched = true;
          if (t.stp === StpMode.CancelOldest || t.stp === StpMode.CancelBoth) {
            this.remove(m);
            this.done(m.id, m.account, DoneReason.SELF_TRADE, m.remaining);
            if (t.stp === StpMode.CancelBoth) {
              stopped = t.remaining;
              break;
            }
            continue;
          }
          const q = Math.min(m.remaining, t.remaining);
          m.remaining -= q;
          t.remaining -= q;
          if (m.remaining === 0) {
            this.remove(m);
            this.done(m.id, m.account, DoneReason.SELF_TRADE, q);
          } else {
            this.push({
              type: 'amended',
              seq: 0,
              ts: this.now,
              orderId: m.id,
              accountId: m.account,
              price: m.price,
              size: m.remaining,
              reason: AmendReason.SELF_TRADE_DECREMENT,
            });
          }
          if (t.remaining === 0) {
            stopped = q;
            break;
          }
          this.push({
            type: 'amended',
            seq: 0,
            ts: this.now,
            orderId: t.id,
            accountId: t.account,
            price: t.price,
            size: t.remaining,
            reason: AmendReason.SELF_TRADE_DECREMENT,
          });
          continue;
        }
        touched = true;
        const q = Math.min(m.remaining, t.remaining);
        m.remaining -= q;
        t.remaining -= q;
        this.lastPrice = price;
        this.push({
          type: 'trade',
          seq: 0,
          ts: this.now,
          makerOrderId: m.id,
          makerAccountId: m.account,
          takerOrderId: t.id,
          takerAccountId: t.account,
          takerSide: t.side,
          price,
          size: q,
        });
        if (m.remaining === 0) {
          this.remove(m);
          this.done(m.id, m.account, DoneReason.FILLED, 0);
        }
      }
      if (touched) this.level(opp, price);
      if (stopped !== undefined) return stopped;
    }
  }

  // ------------------------------------------------------------------ amend

  private amendRejection(c: AmendOrder, o: RestingOrder | undefined): RejectReason | undefined {
    const cfg = this.config;
    if (o === undefined) return RejectReason.ORDER_NOT_FOUND;
    if (o.account !== c.accountId) return RejectReason.NOT_ORDER_OWNER;
    if (!(isInt(c.price) && c.price > 0)) return RejectReason.INVALID_PRICE;
    if (!(isInt(c.size) && c.size > 0)) return RejectReason.INVALID_SIZE;
    if (BigInt(c.price) * BigInt(c.size) > BigInt(MAX)) return RejectReason.NOTIONAL_OUT_OF_RANGE;
    if (c.price === o.price && c.size === o.remaining) return RejectReason.AMEND_NO_CHANGE;
    if (c.size < cfg.minSize) return RejectReason.SIZE_BELOW_MINIMUM;
    if (c.price * c.size < cfg.minNotional) return RejectReason.NOTIONAL_BELOW_MINIMUM;
    const band = this.band();
    if (c.price !== o.price && band !== undefined && (c.price < band[0] || c.price > band[1])) return RejectReason.PRICE_OUT_OF_BAND;
    if (BigInt(this.sideSize(o.side) - o.remaining) + BigInt(c.size) > BigInt(MAX)) return RejectReason.BOOK_SIZE_OUT_OF_RANGE;
    if (c.price !== o.price && o.postOnly && this.eligible(o.side, c.price).length > 0) return RejectReason.POST_ONLY_WOULD_TAKE;
    return undefined;
  }

  private amend(c: AmendOrder): void {
    const o = this.resting.find((r) => r.id === c.orderId);
    const reason = this.amendRejection(c, o);
    if (reason !== undefined || o === undefined) {
      this.reject(CommandType.Amend, clean(c.orderId), clean(c.accountId), reason ?? RejectReason.ORDER_NOT_FOUND);
      return;
    }
    this.push({
      type: 'amended',
      seq: 0,
      ts: this.now,
      orderId: o.id,
      accountId: o.account,
      price: c.price,
      size: c.size,
      reason: AmendReason.USER,
    });
    if (c.price === o.price) {
      if (c.size > o.remaining) o.time = ++this.clockTick;
      o.remaining = c.size;
      this.level(o.side, o.price);
      return;
    }
    this.remove(o);
    this.level(o.side, o.price);
    const t: Taker = { id: o.id, account: o.account, side: o.side, price: c.price, remaining: c.size, stp: o.stp };
    const stoppedRelease = this.match(t, c.price);
    if (stoppedRelease !== undefined) this.done(t.id, t.account, DoneReason.SELF_TRADE, stoppedRelease);
    else if (t.remaining === 0) this.done(t.id, t.account, DoneReason.FILLED, 0);
    else {
      this.resting.push({ ...o, price: c.price, remaining: t.remaining, time: ++this.clockTick });
      this.level(o.side, c.price);
    }
  }

  // ------------------------------------------------------------------ views

  /** Resting orders of a side in priority order. */
  ordersOf(side: Side): RestingOrder[] {
    return this.resting
      .filter((r) => r.side === side)
      .sort((a, b) => (side === Side.Buy ? b.price - a.price : a.price - b.price) || a.time - b.time);
  }
}
