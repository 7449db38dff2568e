import type {
  AmendReason,
  CommandType,
  DoneReason,
  OrderType,
  RejectReason,
  Side,
  TimeInForce,
} from './types.js';

/**
 * Where the book writes its events. One call per event, positional integer arguments, no event objects:
 * the hot path allocates nothing for output. `seq` increases by exactly one across all events of a market;
 * `ts` is the logical timestamp of the command that produced the event.
 *
 * Implementations: EventCollector (plain objects, for tests and adapters), EventEncoder (bytes),
 * NullSink (discard; the book still advances sequence and state hash).
 *
 * A sink must not throw and must not call back into the book: events are emitted while the book is
 * mid-update, and the book does not roll back.
 */
export interface EventSink {
  /** An order passed validation and entered matching. `price` is 0 for a market order without protection. */
  onAccepted(
    seq: number,
    ts: number,
    orderId: number,
    accountId: number,
    side: Side,
    orderType: OrderType,
    tif: TimeInForce,
    price: number,
    size: number,
  ): void;
  /** A command was refused; the book did not change. orderId is 0 for cancel-all / expire commands. */
  onRejected(seq: number, ts: number, command: CommandType, orderId: number, accountId: number, reason: RejectReason): void;
  /** A fill at the maker's price. */
  onTrade(
    seq: number,
    ts: number,
    makerOrderId: number,
    makerAccountId: number,
    takerOrderId: number,
    takerAccountId: number,
    takerSide: Side,
    price: number,
    size: number,
  ): void;
  /** The order is finished; `remaining` lots were released without trading (0 when filled). */
  onDone(seq: number, ts: number, orderId: number, accountId: number, reason: DoneReason, remaining: number): void;
  /** Price and/or remaining size changed without a trade (owner amend or STP decrement). */
  onAmended(seq: number, ts: number, orderId: number, accountId: number, price: number, size: number, reason: AmendReason): void;
  /** New total resting size at a price level (0 = level gone). */
  onLevel(seq: number, ts: number, side: Side, price: number, size: number): void;
}

export interface AcceptedEvent {
  readonly type: 'accepted';
  readonly seq: number;
  readonly ts: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  readonly price: number;
  readonly size: number;
}
export interface RejectedEvent {
  readonly type: 'rejected';
  readonly seq: number;
  readonly ts: number;
  readonly command: CommandType;
  readonly orderId: number;
  readonly accountId: number;
  readonly reason: RejectReason;
}
export interface TradeEvent {
  readonly type: 'trade';
  readonly seq: number;
  readonly ts: number;
  readonly makerOrderId: number;
  readonly makerAccountId: number;
  readonly takerOrderId: number;
  readonly takerAccountId: number;
  readonly takerSide: Side;
  readonly price: number;
  readonly size: number;
}
export interface DoneEvent {
  readonly type: 'done';
  readonly seq: number;
  readonly ts: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly reason: DoneReason;
  readonly remaining: number;
}
export interface AmendedEvent {
  readonly type: 'amended';
  readonly seq: number;
  readonly ts: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly price: number;
  readonly size: number;
  readonly reason: AmendReason;
}
export interface LevelEvent {
  readonly type: 'level';
  readonly seq: number;
  readonly ts: number;
  readonly side: Side;
  readonly price: number;
  readonly size: number;
}
export type BookEvent = AcceptedEvent | RejectedEvent | TradeEvent | DoneEvent | AmendedEvent | LevelEvent;

/** Discards events (benchmarks, replicas that only compare state hashes). */
export class NullSink implements EventSink {
  onAccepted(): void {
    /* discard */
  }
  onRejected(): void {
    /* discard */
  }
  onTrade(): void {
    /* discard */
  }
  onDone(): void {
    /* discard */
  }
  onAmended(): void {
    /* discard */
  }
  onLevel(): void {
    /* discard */
  }
}

/** Collects events as plain objects into `events` (call `clear()` or `take()` between batches). */
export class EventCollector implements EventSink {
  events: BookEvent[] = [];

  take(): BookEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }
  clear(): void {
    this.events.length = 0;
  }
  onAccepted(
    seq: number,
    ts: number,
    orderId: number,
    accountId: number,
    side: Side,
    orderType: OrderType,
    tif: TimeInForce,
    price: number,
    size: number,
  ): void {
    this.events.push({ type: 'accepted', seq, ts, orderId, accountId, side, orderType, tif, price, size });
  }
  onRejected(seq: number, ts: number, command: CommandType, orderId: number, accountId: number, reason: RejectReason): void {
    this.events.push({ type: 'rejected', seq, ts, command, orderId, accountId, reason });
  }
  onTrade(
    seq: number,
    ts: number,
    makerOrderId: number,
    makerAccountId: number,
    takerOrderId: number,
    takerAccountId: number,
    takerSide: Side,
    price: number,
    size: number,
  ): void {
    this.events.push({ type: 'trade', seq, ts, makerOrderId, makerAccountId, takerOrderId, takerAccountId, takerSide, price, size });
  }
  onDone(seq: number, ts: number, orderId: number, accountId: number, reason: DoneReason, remaining: number): void {
    this.events.push({ type: 'done', seq, ts, orderId, accountId, reason, remaining });
  }
  onAmended(seq: number, ts: number, orderId: number, accountId: number, price: number, size: number, reason: AmendReason): void {
    this.events.push({ type: 'amended', seq, ts, orderId, accountId, price, size, reason });
  }
  onLevel(seq: number, ts: number, side: Side, price: number, size: number): void {
    this.events.push({ type: 'level', seq, ts, side, price, size });
  }
}

/** Replays event objects into a sink (e.g. to encode collected events). */
export function emitTo(sink: EventSink, e: BookEvent): void {
  switch (e.type) {
    case 'accepted':
      sink.onAccepted(e.seq, e.ts, e.orderId, e.accountId, e.side, e.orderType, e.tif, e.price, e.size);
      return;
    case 'rejected':
      sink.onRejected(e.seq, e.ts, e.command, e.orderId, e.accountId, e.reason);
      return;
    case 'trade':
      sink.onTrade(e.seq, e.ts, e.makerOrderId, e.makerAccountId, e.takerOrderId, e.takerAccountId, e.takerSide, e.price, e.size);
      return;
    case 'done':
      sink.onDone(e.seq, e.ts, e.orderId, e.accountId, e.reason, e.remaining);
      return;
    case 'amended':
      sink.onAmended(e.seq, e.ts, e.orderId, e.accountId, e.price, e.size, e.reason);
      return;
    case 'level':
      sink.onLevel(e.seq, e.ts, e.side, e.price, e.size);
      return;
  }
}
