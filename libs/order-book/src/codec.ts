import type { BookEvent, EventSink } from './events.js';
import type { AmendReason, CommandType, DoneReason, OrderType, RejectReason, Side, TimeInForce } from './types.js';

/** Sink that appends the deterministic byte encoding of every event to a growable buffer. */
export class EventEncoder implements EventSink {
  /** Bytes written since the last reset. */
  bytes(): Uint8Array {
    throw new Error('not implemented');
  }
  reset(): void {
    throw new Error('not implemented');
  }
  onAccepted(_s: number, _t: number, _o: number, _a: number, _si: Side, _ot: OrderType, _tif: TimeInForce, _p: number, _z: number): void {
    throw new Error('not implemented');
  }
  onRejected(_s: number, _t: number, _c: CommandType, _o: number, _a: number, _r: RejectReason): void {
    throw new Error('not implemented');
  }
  onTrade(_s: number, _t: number, _mo: number, _ma: number, _to: number, _ta: number, _si: Side, _p: number, _z: number): void {
    throw new Error('not implemented');
  }
  onDone(_s: number, _t: number, _o: number, _a: number, _r: DoneReason, _rem: number): void {
    throw new Error('not implemented');
  }
  onAmended(_s: number, _t: number, _o: number, _a: number, _p: number, _z: number, _r: AmendReason): void {
    throw new Error('not implemented');
  }
  onLevel(_s: number, _t: number, _si: Side, _p: number, _z: number): void {
    throw new Error('not implemented');
  }
}

/** Deterministic bytes of a list of events (same encoding as EventEncoder). */
export function encodeEvents(_events: readonly BookEvent[]): Uint8Array {
  throw new Error('not implemented');
}

/** Inverse of encodeEvents / EventEncoder. Throws OrderBookError('INVALID_EVENT_BYTES'). */
export function decodeEvents(_bytes: Uint8Array): BookEvent[] {
  throw new Error('not implemented');
}
