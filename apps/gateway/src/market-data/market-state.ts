// What the gateway knows of one market, rebuilt from the engine's events (the market-events topic): the
// price levels with the book sequence, orders (open, and recently finished), recent trades and 1-minute
// candles. Pure and synchronous: the event consumer feeds it, REST and WebSocket read it. It is as fresh as
// the events this gateway has consumed (eventually consistent with the engine, usually milliseconds behind);
// a projector into PostgreSQL replaces the order and trade history part once it exists.
import { candlesFrom, candleStart, doneReasonName, foldTrade, rejectReasonName, tradeRecord, CommandType, OrderType, Side, TimeInForce, type BookEvent, type Candle, type TradeRecord } from '@parallax/order-book';
import { PriceLadder } from './price-ladder.js';

// Trade records and candles are folded by the order book lib's functions (the projector folds the same);
// re-exported for this app's readers.
export type { Candle, TradeRecord } from '@parallax/order-book';
export { candlesFrom } from '@parallax/order-book';

export type OrderStatus = 'open' | 'filled' | 'canceled' | 'expired' | 'rejected';

export interface OrderState {
  readonly marketId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  price: number;
  /** Original size in lots (after owner amends: remaining + filled). */
  size: number;
  filled: number;
  /** Sum of price * size over fills, for the average price. */
  notional: number;
  status: OrderStatus;
  /** Engine reason name of a rejection or of the order's end (FILLED, CANCELLED, SELF_TRADE, ...). */
  reason: string | undefined;
  readonly createdTs: number;
  updatedTs: number;
}

/** The level changes of one event batch (price ticks -> new total lots, 0 = gone). */
export interface BookDiff {
  readonly marketId: number;
  readonly prevSeq: number;
  readonly seq: number;
  /** Engine logical time (ms) of the last level change. */
  readonly ts: number;
  readonly bids: readonly (readonly [number, number])[];
  readonly asks: readonly (readonly [number, number])[];
}

export interface BatchOutcome {
  readonly diff: BookDiff | undefined;
  readonly trades: readonly TradeRecord[];
  /** Orders whose state changed, and rejections of cancels (orderId of the cancel). */
  readonly touched: readonly OrderState[];
  readonly rejectedCancels: readonly { readonly orderId: number; readonly accountId: number; readonly reason: string }[];
  /** Orders the engine answered in this batch (accepted or rejected places): the orders/s figure counts them. */
  readonly orders: number;
}

const MAX_TRADES = 1_000;
const MAX_FINISHED_ORDERS = 20_000;
const MAX_CANDLES = 7 * 24 * 60;

export class MarketState {
  /** Event sequence of the last event applied (any kind). */
  seq = 0;
  /** Event sequence of the last level change: the book's sequence number clients follow. */
  bookSeq = 0;
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  /** The same prices in book order (the top of the book without a sort per read). */
  private readonly bidPrices = new PriceLadder(true);
  private readonly askPrices = new PriceLadder(false);
  readonly orders = new Map<number, OrderState>();
  private readonly finished: number[] = [];
  readonly trades: TradeRecord[] = [];
  readonly candles: Candle[] = [];
  readonly openByAccount = new Map<number, Set<number>>();

  constructor(readonly marketId: number) {}

  /** Applies one event batch (contiguous seqs). Events at or below `seq` were seen before and are skipped. */
  apply(events: readonly BookEvent[]): BatchOutcome {
    const bidChanges = new Map<number, number>();
    const askChanges = new Map<number, number>();
    const trades: TradeRecord[] = [];
    const touched = new Map<number, OrderState>();
    const rejectedCancels: { orderId: number; accountId: number; reason: string }[] = [];
    const prevBookSeq = this.bookSeq;
    let levelTs = 0;
    let orders = 0;
    for (const e of events) {
      if (e.seq <= this.seq) continue;
      this.seq = e.seq;
      switch (e.type) {
        case 'accepted': {
          orders++;
          const o: OrderState = {
            marketId: this.marketId,
            orderId: e.orderId,
            accountId: e.accountId,
            side: e.side,
            orderType: e.orderType,
            tif: e.tif,
            price: e.price,
            size: e.size,
            filled: 0,
            notional: 0,
            status: 'open',
            reason: undefined,
            createdTs: e.ts,
            updatedTs: e.ts,
          };
          this.orders.set(e.orderId, o);
          let set = this.openByAccount.get(e.accountId);
          if (set === undefined) this.openByAccount.set(e.accountId, (set = new Set()));
          set.add(e.orderId);
          touched.set(e.orderId, o);
          break;
        }
        case 'rejected': {
          const reason = rejectReasonName(e.reason) ?? 'REJECTED';
          if (e.command === CommandType.Place) {
            orders++;
            // A rejected place never existed in the book; keep it visible to its owner as rejected, unless the
            // rejection is for a duplicate id (the live order with that id must not be overwritten).
            if (!this.orders.has(e.orderId)) {
              const o: OrderState = {
                marketId: this.marketId,
                orderId: e.orderId,
                accountId: e.accountId,
                side: Side.Buy,
                orderType: OrderType.Limit,
                tif: TimeInForce.GTC,
                price: 0,
                size: 0,
                filled: 0,
                notional: 0,
                status: 'rejected',
                reason,
                createdTs: e.ts,
                updatedTs: e.ts,
              };
              this.orders.set(e.orderId, o);
              this.finish(o);
              touched.set(e.orderId, o);
            }
          } else if (e.command === CommandType.Cancel) {
            rejectedCancels.push({ orderId: e.orderId, accountId: e.accountId, reason });
          }
          break;
        }
        case 'trade': {
          const t = tradeRecord(e);
          trades.push(t);
          this.trades.push(t);
          if (this.trades.length > MAX_TRADES) this.trades.splice(0, this.trades.length - MAX_TRADES);
          this.candle(e.ts, e.price, e.size);
          for (const id of [e.makerOrderId, e.takerOrderId]) {
            const o = this.orders.get(id);
            if (o !== undefined) {
              o.filled += e.size;
              o.notional += e.price * e.size;
              o.updatedTs = e.ts;
              touched.set(id, o);
            }
          }
          break;
        }
        case 'done': {
          const o = this.orders.get(e.orderId);
          if (o !== undefined) {
            const reason = doneReasonName(e.reason) ?? 'DONE';
            o.status = reason === 'FILLED' ? 'filled' : reason === 'EXPIRED' ? 'expired' : 'canceled';
            o.reason = reason;
            o.updatedTs = e.ts;
            this.finish(o);
            touched.set(e.orderId, o);
          }
          break;
        }
        case 'amended': {
          const o = this.orders.get(e.orderId);
          if (o !== undefined) {
            o.price = e.price;
            o.size = o.filled + e.size;
            o.updatedTs = e.ts;
            touched.set(e.orderId, o);
          }
          break;
        }
        case 'level': {
          const isBid = e.side === Side.Buy;
          const side = isBid ? this.bids : this.asks;
          const ladder = isBid ? this.bidPrices : this.askPrices;
          if (e.size === 0) {
            if (side.delete(e.price)) ladder.remove(e.price);
          } else {
            if (!side.has(e.price)) ladder.add(e.price);
            side.set(e.price, e.size);
          }
          (e.side === Side.Buy ? bidChanges : askChanges).set(e.price, e.size);
          this.bookSeq = e.seq;
          levelTs = e.ts;
          break;
        }
        default:
          e satisfies never;
      }
    }
    const diff: BookDiff | undefined =
      bidChanges.size + askChanges.size === 0
        ? undefined
        : { marketId: this.marketId, prevSeq: prevBookSeq, seq: this.bookSeq, ts: levelTs, bids: [...bidChanges], asks: [...askChanges] };
    return { diff, trades, touched: [...touched.values()], rejectedCancels, orders };
  }

  /**
   * An order its risk shard refused (INSUFFICIENT_FUNDS, NOT_AUTHORIZED...): it never reached the book, and is
   * kept visible to its owner as rejected, like an order the engine rejected. `orderId` is the gateway's own
   * id for it (the shard mints ids for accepted orders only). Returns the outcome to publish.
   */
  refused(o: Omit<OrderState, 'marketId' | 'filled' | 'notional' | 'status' | 'updatedTs'>): BatchOutcome {
    const state: OrderState = { ...o, marketId: this.marketId, filled: 0, notional: 0, status: 'rejected', updatedTs: o.createdTs };
    this.orders.set(o.orderId, state);
    this.finish(state);
    // Refused before any engine saw it: not counted in orders/s through the engines.
    return { diff: undefined, trades: [], touched: [state], rejectedCancels: [], orders: 0 };
  }

  private finish(o: OrderState): void {
    this.openByAccount.get(o.accountId)?.delete(o.orderId);
    this.finished.push(o.orderId);
    if (this.finished.length > MAX_FINISHED_ORDERS) {
      for (const id of this.finished.splice(0, this.finished.length - MAX_FINISHED_ORDERS)) this.orders.delete(id);
    }
  }

  private candle(ts: number, price: number, size: number): void {
    const last = this.candles.at(-1);
    // ts is monotonic per market; an older ts would be a replay, already counted.
    if (last !== undefined && candleStart(ts) < last.start) return;
    const c = foldTrade(last, ts, price, size);
    if (c !== last) {
      this.candles.push(c);
      if (this.candles.length > MAX_CANDLES) this.candles.splice(0, this.candles.length - MAX_CANDLES);
    }
  }

  /** Best `depth` levels: bids descending, asks ascending, as [priceTicks, sizeLots]. */
  levels(depth: number): { bids: [number, number][]; asks: [number, number][] } {
    const bids = this.bidPrices.top(depth).map((p): [number, number] => [p, this.bids.get(p)!]);
    const asks = this.askPrices.top(depth).map((p): [number, number] => [p, this.asks.get(p)!]);
    return { bids, asks };
  }

  /** Candles of `periodMs` (a multiple of one minute) starting at or after `since`, oldest first. */
  candlesOf(periodMs: number, since: number, limit: number): Candle[] {
    // The first period starting at or after `since`.
    const from = since % periodMs === 0 ? since : since - (since % periodMs) + periodMs;
    return candlesFrom(this.candles, periodMs, from).slice(-limit);
  }
}
