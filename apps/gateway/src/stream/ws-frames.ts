// One WebSocket text frame built once and written as is to many sockets: the book fan-out's write path.
//
// `ws.send(bytes)` frames the message again for every socket (options object, a header buffer, cork, two
// writes, uncork: a writev per socket). A server's frames are never masked (RFC 6455 5.1), so a frame is the
// same bytes for every connection: it is built once per message (`textFrame`) and handed to each socket's
// stream as one buffer (`writeFrame`), the same Buffer object for all of them.
//
// Writing to the socket under ws needs two things ws does not declare public: the connection's net.Socket
// (`_socket`) and whether ws's own sender is idle (`_sender._state`, `_sender._queue`: while it compresses or
// reads a Blob it queues, and a frame written past it would overtake its queued ones). They are read here and
// nowhere else; `ws-frames.spec.ts` fails if a ws release renames them, and a socket whose internals do not look
// as expected gets the message through the public `ws.send` instead (correct, only slower).
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

const OPCODE_TEXT = 0x1;
const FIN = 0x80;

/** The complete unmasked, uncompressed, final text frame carrying `payload` (UTF-8 JSON). */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + n);
  frame[0] = FIN | OPCODE_TEXT;
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    // Payloads past 2^53 cannot exist in a Buffer; the high word is written for the format's sake.
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(frame, header);
  return frame;
}

interface WsInternals {
  _socket?: Duplex | null;
  _sender?: { _state?: unknown; _queue?: unknown } | null;
}

/** ws's `Sender` state when it writes synchronously (DEFAULT = 0 in ws 8). */
const SENDER_IDLE = 0;

/** The socket a frame can be written to directly, or undefined when ws's internals are not as expected. */
export function directSocket(ws: WebSocket): Duplex | undefined {
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  const sender = w._sender;
  if (socket === undefined || socket === null || typeof socket.write !== 'function') return undefined;
  if (sender === undefined || sender === null || sender._state !== SENDER_IDLE || !Array.isArray(sender._queue) || sender._queue.length !== 0) return undefined;
  return socket;
}

/**
 * Sends the framed message (`frame` = textFrame(`payload`)) on an OPEN socket: one write of the shared frame,
 * or `ws.send(payload)` when the direct path is not available. The caller checks readyState.
 */
export function writeFrame(ws: WebSocket, frame: Buffer, payload: Buffer): void {
  const socket = directSocket(ws);
  if (socket !== undefined) socket.write(frame);
  else ws.send(payload, { binary: false });
}
