// How the book fan-out stays within one gateway thread, and what it does with a subscriber that cannot keep up.
//
// Writes, not bytes, are what a fan-out costs: each message to each subscriber is one socket write, a system
// call that on this path takes ~10-20 µs of the thread (measured by `bench/fanout-write.bench.ts`; framing the
// message once for all sockets, `ws-frames.ts`, removes only the ~20% spent in JS). So a market's diffs are
// merged over a window that grows with the number of book subscribers, keeping the gateway's book writes per
// second under a budget whatever the rate of updates: at the defaults (10 ms base, 40,000 writes/s, 40 ms cap)
// up to 400 subscribers get a diff every 10 ms, 1,000 every 25 ms, 1,600 and more every 40 ms (past that the
// budget is exceeded rather than the lag goal: more subscribers call for more gateway instances).
//
// A subscriber whose socket holds more than `maxBufferedBytes` unsent bytes is not reading as fast as the market
// moves; buffering for it without bound would let one slow reader exhaust the gateway's memory. It is
// disconnected with close code 4008 and reason SLOW_CONSUMER (as the large exchanges do with slow readers); it
// reconnects and starts again from a snapshot, which is what it would need anyway after falling that far behind.
import type { WebSocket } from 'ws';
import { textFrame, writeFrame } from './ws-frames.js';

/** The WebSocket close code and reason a slow consumer gets. */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;
export const SLOW_CONSUMER_REASON = 'SLOW_CONSUMER';

export interface CoalesceBounds {
  /** The window with few subscribers (GATEWAY_BOOK_COALESCE_MS). */
  readonly baseMs: number;
  /** The longest window, whatever the number of subscribers (GATEWAY_BOOK_COALESCE_MAX_MS). */
  readonly maxMs: number;
  /** Book messages per second the gateway aims to stay under (GATEWAY_BOOK_WRITES_PER_SECOND). */
  readonly writesPerSecond: number;
}

/**
 * The merge window (ms) for `subscribers` book subscriptions on this gateway: long enough that one diff per
 * window to each of them stays within the write budget, never shorter than the base nor longer than the cap
 * (a base above the cap wins: the operator asked for it).
 */
export function coalesceWindowMs(subscribers: number, b: CoalesceBounds): number {
  const n = Number.isFinite(subscribers) && subscribers > 0 ? subscribers : 0;
  const needed = b.writesPerSecond > 0 ? Math.ceil((n * 1000) / b.writesPerSecond) : b.maxMs;
  return Math.max(b.baseMs, Math.min(b.maxMs, needed));
}

/** True when a socket's unsent bytes exceed the limit: the subscriber is to be disconnected, not fed. */
export function isSlowConsumer(bufferedAmount: number, maxBufferedBytes: number): boolean {
  return bufferedAmount > maxBufferedBytes;
}

/**
 * Sends one message to every open target: framed once, the same frame written to each socket. A target whose
 * socket is already past `maxBufferedBytes` gets nothing more; it is handed to `onSlow` (after the loop, so
 * `onSlow` may remove it from `targets`). Returns the number of sockets written to.
 */
export function sendToAll<T>(targets: Iterable<T>, socketOf: (t: T) => WebSocket, payload: Buffer, maxBufferedBytes: number, onSlow: (t: T) => void): number {
  const frame = textFrame(payload);
  let slow: T[] | undefined;
  let written = 0;
  for (const t of targets) {
    const ws = socketOf(t);
    if (ws.readyState !== ws.OPEN) continue;
    if (isSlowConsumer(ws.bufferedAmount, maxBufferedBytes)) {
      (slow ??= []).push(t);
      continue;
    }
    writeFrame(ws, frame, payload);
    written++;
  }
  if (slow !== undefined) for (const t of slow) onSlow(t);
  return written;
}

/** Closes a slow consumer's connection with the stable code and reason (the close frame follows its backlog). */
export function closeSlowConsumer(ws: WebSocket): void {
  if (ws.readyState === ws.OPEN) ws.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON);
}
