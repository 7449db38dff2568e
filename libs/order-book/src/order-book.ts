import type { AmendOrder, CancelAll, CancelOrder, Command, ExpireOrders, PlaceOrder } from './commands.js';
import type { EventSink } from './events.js';
import { NullSink } from './events.js';
import type { MarketConfig, OrderType, Side, StpMode, TimeInForce } from './types.js';

/** Read-only view of a resting order. */
export interface OrderView {
  readonly orderId: number;
  readonly accountId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly price: number;
  readonly remaining: number;
  readonly tif: TimeInForce;
  readonly expiresAt: number;
  readonly postOnly: boolean;
  readonly stp: StpMode;
}

/** Aggregated price level. */
export interface LevelView {
  readonly price: number;
  readonly size: number;
  readonly orders: number;
}

/**
 * One market's limit order book: price-time priority over integer ticks and lots. Deterministic: the
 * events it emits depend only on its state and the commands applied. Never throws on bad commands (it
 * emits `rejected`); throws OrderBookError only for an invalid config or snapshot.
 */
export class OrderBook {
  constructor(_config: MarketConfig, _sink: EventSink = new NullSink()) {
    throw new Error('not implemented');
  }

  /** Redirect subsequent events (e.g. a fresh collector per batch). */
  setSink(_sink: EventSink): void {
    throw new Error('not implemented');
  }

  /** Dispatch any command. */
  apply(_cmd: Command): void {
    throw new Error('not implemented');
  }
  place(_cmd: PlaceOrder): void {
    throw new Error('not implemented');
  }
  cancel(_cmd: CancelOrder): void {
    throw new Error('not implemented');
  }
  cancelAll(_cmd: CancelAll): void {
    throw new Error('not implemented');
  }
  amend(_cmd: AmendOrder): void {
    throw new Error('not implemented');
  }
  expire(_cmd: ExpireOrders): void {
    throw new Error('not implemented');
  }

  get config(): MarketConfig {
    throw new Error('not implemented');
  }
  /** Sequence number of the last emitted event (0 before the first). */
  get sequence(): number {
    throw new Error('not implemented');
  }
  /** Logical time of the last applied command. */
  get clock(): number {
    throw new Error('not implemented');
  }
  /** Price band reference: last trade price, else the configured initial reference (0 = none). */
  get referencePrice(): number {
    throw new Error('not implemented');
  }
  /** Best bid in ticks, 0 when the bid side is empty. */
  bestBid(): number {
    throw new Error('not implemented');
  }
  /** Best ask in ticks, 0 when the ask side is empty. */
  bestAsk(): number {
    throw new Error('not implemented');
  }
  /** Number of resting orders. */
  get orderCount(): number {
    throw new Error('not implemented');
  }
  getOrder(_orderId: number): OrderView | undefined {
    throw new Error('not implemented');
  }
  /** Resting orders of a side, best level first, FIFO within a level. */
  orders(_side: Side): OrderView[] {
    throw new Error('not implemented');
  }
  /** Aggregated levels of a side, best first (at most maxLevels). */
  depth(_side: Side, _maxLevels?: number): LevelView[] {
    throw new Error('not implemented');
  }
  /** Resting orders of one account. */
  openOrderCount(_accountId: number): number {
    throw new Error('not implemented');
  }
  /** Running 64-bit hash over every emitted event, 16 lowercase hex chars (see README). */
  stateHash(): string {
    throw new Error('not implemented');
  }
  /** Deterministic byte encoding of the whole state. */
  snapshot(): Uint8Array {
    throw new Error('not implemented');
  }
  /** Rebuild a book from snapshot(); throws OrderBookError('INVALID_SNAPSHOT'). */
  static restore(_bytes: Uint8Array, _sink: EventSink = new NullSink()): OrderBook {
    throw new Error('not implemented');
  }
}
