// Test helpers: command builders with defaults and a book + collector harness.
import type { AmendOrder, BookEvent, CancelAll, CancelOrder, ExpireOrders, MarketConfig, PlaceOrder } from '../index.js';
import { EventCollector, OrderBook, OrderType, Side, StpMode, TimeInForce } from '../index.js';

export const OPEN_MARKET: MarketConfig = {
  marketId: 7,
  minSize: 0,
  minNotional: 0,
  maxOpenOrdersPerAccount: 0,
  priceBandBps: 0,
  initialReferencePrice: 0,
};

export function market(overrides: Partial<MarketConfig> = {}): MarketConfig {
  return { ...OPEN_MARKET, ...overrides };
}

type PlaceOpts = Partial<Omit<PlaceOrder, 'type'>>;

export function place(o: PlaceOpts & Pick<PlaceOrder, 'orderId' | 'side'>): PlaceOrder {
  return {
    type: 'place',
    ts: 0,
    accountId: 1,
    orderType: OrderType.Limit,
    price: 100,
    size: 10,
    tif: TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.None,
    ...o,
  };
}

export const buy = (orderId: number, price: number, size: number, o: PlaceOpts = {}): PlaceOrder =>
  place({ orderId, side: Side.Buy, price, size, ...o });
export const sell = (orderId: number, price: number, size: number, o: PlaceOpts = {}): PlaceOrder =>
  place({ orderId, side: Side.Sell, price, size, ...o });
export const marketBuy = (orderId: number, size: number, o: PlaceOpts = {}): PlaceOrder =>
  place({ orderId, side: Side.Buy, orderType: OrderType.Market, price: 0, size, tif: TimeInForce.IOC, ...o });
export const marketSell = (orderId: number, size: number, o: PlaceOpts = {}): PlaceOrder =>
  place({ orderId, side: Side.Sell, orderType: OrderType.Market, price: 0, size, tif: TimeInForce.IOC, ...o });
export const cancel = (orderId: number, accountId = 1, ts = 0): CancelOrder => ({ type: 'cancel', ts, orderId, accountId });
export const cancelAll = (accountId: number, ts = 0): CancelAll => ({ type: 'cancelAll', ts, accountId });
export const amend = (orderId: number, price: number, size: number, accountId = 1, ts = 0): AmendOrder => ({
  type: 'amend',
  ts,
  orderId,
  accountId,
  price,
  size,
});
export const expire = (ts: number): ExpireOrders => ({ type: 'expire', ts });

/** Events without seq/ts, for compact assertions. */
export type Bare = Record<string, unknown>;
export function bare(events: readonly BookEvent[]): Bare[] {
  return events.map((e) => {
    const { seq: _seq, ts: _ts, ...rest } = e;
    return rest;
  });
}

export class Harness {
  readonly out = new EventCollector();
  readonly book: OrderBook;
  constructor(config: MarketConfig = OPEN_MARKET) {
    this.book = new OrderBook(config, this.out);
  }
  /** Applies commands and returns the events they produced. */
  run(...cmds: (PlaceOrder | CancelOrder | CancelAll | AmendOrder | ExpireOrders)[]): BookEvent[] {
    this.out.clear();
    for (const c of cmds) this.book.apply(c);
    return this.out.take();
  }
  /** Ids per side in book order. */
  ids(side: Side): number[] {
    return this.book.orders(side).map((o) => o.orderId);
  }
}
