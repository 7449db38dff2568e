// Deterministic byte encoding of book events: per event one kind byte (EventKind) followed by its fields
// as unsigned varints in declaration order (seq, ts, then the event's own fields). Concatenating the
// encodings of a stream gives the encoding of the stream. Same events -> same bytes.
import { ByteReader, ByteWriter } from './bytes.js';
import type { BookEvent, EventSink } from './events.js';
import { EventCollector, emitTo } from './events.js';
import type { AmendReason, CommandType, DoneReason, OrderType, RejectReason, Side, TimeInForce } from './types.js';
import { EventKind } from './types.js';

/** Sink that appends the deterministic byte encoding of every event to a growable buffer. */
export class EventEncoder implements EventSink {
  private readonly w: ByteWriter;

  constructor(initialCapacity = 64 * 1024) {
    this.w = new ByteWriter(initialCapacity);
  }

  /** Number of bytes written since the last reset. */
  get length(): number {
    return this.w.pos;
  }
  /** Copy of the bytes written since the last reset. */
  bytes(): Uint8Array {
    return this.w.finish();
  }
  /** Forget written bytes (keeps the buffer). */
  reset(): void {
    this.w.pos = 0;
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
    const w = this.w;
    w.byte(EventKind.Accepted);
    w.uint(seq);
    w.uint(ts);
    w.uint(orderId);
    w.uint(accountId);
    w.uint(side);
    w.uint(orderType);
    w.uint(tif);
    w.uint(price);
    w.uint(size);
  }
  onRejected(seq: number, ts: number, command: CommandType, orderId: number, accountId: number, reason: RejectReason): void {
    const w = this.w;
    w.byte(EventKind.Rejected);
    w.uint(seq);
    w.uint(ts);
    w.uint(command);
    w.uint(orderId);
    w.uint(accountId);
    w.uint(reason);
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
    const w = this.w;
    w.byte(EventKind.Trade);
    w.uint(seq);
    w.uint(ts);
    w.uint(makerOrderId);
    w.uint(makerAccountId);
    w.uint(takerOrderId);
    w.uint(takerAccountId);
    w.uint(takerSide);
    w.uint(price);
    w.uint(size);
  }
  onDone(seq: number, ts: number, orderId: number, accountId: number, reason: DoneReason, remaining: number): void {
    const w = this.w;
    w.byte(EventKind.Done);
    w.uint(seq);
    w.uint(ts);
    w.uint(orderId);
    w.uint(accountId);
    w.uint(reason);
    w.uint(remaining);
  }
  onAmended(seq: number, ts: number, orderId: number, accountId: number, price: number, size: number, reason: AmendReason): void {
    const w = this.w;
    w.byte(EventKind.Amended);
    w.uint(seq);
    w.uint(ts);
    w.uint(orderId);
    w.uint(accountId);
    w.uint(price);
    w.uint(size);
    w.uint(reason);
  }
  onLevel(seq: number, ts: number, side: Side, price: number, size: number): void {
    const w = this.w;
    w.byte(EventKind.Level);
    w.uint(seq);
    w.uint(ts);
    w.uint(side);
    w.uint(price);
    w.uint(size);
  }
}

/** Deterministic bytes of a list of events (same encoding as EventEncoder). */
export function encodeEvents(events: readonly BookEvent[]): Uint8Array {
  const enc = new EventEncoder(Math.max(64, events.length * 24));
  for (const e of events) emitTo(enc, e);
  return enc.bytes();
}

/** Inverse of encodeEvents / EventEncoder. Throws OrderBookError('INVALID_EVENT_BYTES'). */
export function decodeEvents(bytes: Uint8Array): BookEvent[] {
  const r = new ByteReader(bytes, 'INVALID_EVENT_BYTES');
  const out = new EventCollector();
  const side = (): Side => {
    const v = r.uint();
    if (v !== 0 && v !== 1) r.fail('invalid side');
    return v as Side;
  };
  while (!r.done) {
    const kind = r.byte();
    switch (kind) {
      case EventKind.Accepted: {
        const seq = r.uint();
        const ts = r.uint();
        const orderId = r.uint();
        const accountId = r.uint();
        const s = side();
        const orderType = r.uint() as OrderType;
        const tif = r.uint() as TimeInForce;
        out.onAccepted(seq, ts, orderId, accountId, s, orderType, tif, r.uint(), r.uint());
        break;
      }
      case EventKind.Rejected: {
        const seq = r.uint();
        const ts = r.uint();
        const command = r.uint() as CommandType;
        const orderId = r.uint();
        const accountId = r.uint();
        out.onRejected(seq, ts, command, orderId, accountId, r.uint() as RejectReason);
        break;
      }
      case EventKind.Trade: {
        const seq = r.uint();
        const ts = r.uint();
        const mo = r.uint();
        const ma = r.uint();
        const to = r.uint();
        const ta = r.uint();
        const s = side();
        out.onTrade(seq, ts, mo, ma, to, ta, s, r.uint(), r.uint());
        break;
      }
      case EventKind.Done: {
        const seq = r.uint();
        const ts = r.uint();
        const orderId = r.uint();
        const accountId = r.uint();
        const reason = r.uint() as DoneReason;
        out.onDone(seq, ts, orderId, accountId, reason, r.uint());
        break;
      }
      case EventKind.Amended: {
        const seq = r.uint();
        const ts = r.uint();
        const orderId = r.uint();
        const accountId = r.uint();
        const price = r.uint();
        const size = r.uint();
        out.onAmended(seq, ts, orderId, accountId, price, size, r.uint() as AmendReason);
        break;
      }
      case EventKind.Level: {
        const seq = r.uint();
        const ts = r.uint();
        const s = side();
        out.onLevel(seq, ts, s, r.uint(), r.uint());
        break;
      }
      default:
        r.pos--;
        r.fail(`unknown event kind ${kind}`);
    }
  }
  return out.events;
}
