// Wire format of the embedded-log proxy (one MessagePort per client). Requests go client -> server and get
// one response each; consumer callbacks go server -> client as calls the client answers. Message batches are
// packed: all values of a batch in one fresh ArrayBuffer that is transferred (never the log's own buffers),
// so a batch costs one copy and a handful of objects instead of one clone per message.
import {
  TransportError,
  type ConsumedMessage,
  type ConsumerOptions,
  type OutgoingMessage,
  type TopicPartition,
  type TopicPartitionOffset,
  type TopicSpec,
  type TransportErrorCode,
} from '../transport.js';

export interface PackedOutgoing {
  readonly keys: string[];
  /** Explicit partition per message, -1 for "by key"; null when no message has one. */
  readonly partitions: Int32Array | null;
  readonly lengths: Uint32Array;
  readonly data: ArrayBuffer;
  /** Null when no message has headers. */
  readonly headers: (Readonly<Record<string, string>> | null)[] | null;
}

export interface PackedConsumed {
  readonly topic: string;
  readonly partition: number;
  readonly offsets: Float64Array;
  readonly timestamps: Float64Array;
  readonly keys: (string | null)[];
  readonly lengths: Uint32Array;
  readonly data: ArrayBuffer;
  readonly headers: (Readonly<Record<string, string>> | null)[] | null;
}

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export type Request =
  | { readonly op: 'ensureTopics'; readonly specs: readonly TopicSpec[] }
  | { readonly op: 'partitionCount'; readonly topic: string }
  | { readonly op: 'producer'; readonly transactionalId: string | null }
  | { readonly op: 'send'; readonly producer: number; readonly topic: string; readonly batch: PackedOutgoing }
  | {
      readonly op: 'transaction';
      readonly producer: number;
      readonly sends: readonly { readonly topic: string; readonly batch: PackedOutgoing }[];
      readonly commits: readonly { readonly groupId: string; readonly offsets: readonly TopicPartitionOffset[] }[];
    }
  | { readonly op: 'closeProducer'; readonly producer: number }
  | { readonly op: 'consumer'; readonly options: ConsumerOptions }
  | { readonly op: 'run'; readonly consumer: number; readonly assigned: boolean; readonly revoked: boolean }
  | { readonly op: 'closeConsumer'; readonly consumer: number }
  | { readonly op: 'readOpen'; readonly topic: string; readonly partition: number; readonly from: number; readonly to: number | null }
  | { readonly op: 'readNext'; readonly read: number }
  | { readonly op: 'readClose'; readonly read: number }
  | { readonly op: 'committedOffsets'; readonly groupId: string; readonly topic: string }
  | { readonly op: 'endOffsets'; readonly topic: string }
  | { readonly op: 'startOffsets'; readonly topic: string }
  | { readonly op: 'close' };

export type Call =
  | { readonly kind: 'batch'; readonly batch: PackedConsumed; readonly highWatermark: number }
  | { readonly kind: 'assigned' | 'revoked'; readonly partitions: readonly TopicPartition[] };

/** Client -> server. */
export type ClientMessage =
  | { readonly t: 'req'; readonly id: number; readonly req: Request }
  | { readonly t: 'ret'; readonly id: number; readonly error: WireError | null };

/** Server -> client. */
export type ServerMessage =
  | { readonly t: 'res'; readonly id: number; readonly value: unknown; readonly error: WireError | null }
  | { readonly t: 'call'; readonly id: number; readonly consumer: number; readonly call: Call }
  | { readonly t: 'stopped'; readonly consumer: number; readonly error: WireError | null };

export function packOutgoing(messages: readonly OutgoingMessage[]): { batch: PackedOutgoing; transfer: ArrayBuffer[] } {
  const n = messages.length;
  const keys = new Array<string>(n);
  const lengths = new Uint32Array(n);
  let partitions: Int32Array | null = null;
  let headers: (Readonly<Record<string, string>> | null)[] | null = null;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    keys[i] = m.key;
    lengths[i] = m.value.byteLength;
    total += m.value.byteLength;
    if (m.partition !== undefined) {
      partitions ??= new Int32Array(n).fill(-1);
      partitions[i] = m.partition;
    }
    if (m.headers) {
      headers ??= new Array<Readonly<Record<string, string>> | null>(n).fill(null);
      headers[i] = m.headers;
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const m of messages) {
    bytes.set(m.value, at);
    at += m.value.byteLength;
  }
  const transfer: ArrayBuffer[] = [bytes.buffer, lengths.buffer];
  if (partitions) transfer.push(partitions.buffer as ArrayBuffer);
  return { batch: { keys, partitions, lengths, data: bytes.buffer, headers }, transfer };
}

/** Values are views of the received buffer (which nobody else holds). */
export function unpackOutgoing(batch: PackedOutgoing): OutgoingMessage[] {
  const out = new Array<OutgoingMessage>(batch.keys.length);
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const length = batch.lengths[i]!;
    const value = new Uint8Array(batch.data, at, length);
    at += length;
    const partition = batch.partitions?.[i] ?? -1;
    const headers = batch.headers?.[i] ?? null;
    out[i] = {
      key: batch.keys[i]!,
      value,
      ...(partition >= 0 ? { partition } : {}),
      ...(headers ? { headers } : {}),
    };
  }
  return out;
}

export function packConsumed(
  topic: string,
  partition: number,
  messages: readonly ConsumedMessage[],
): { batch: PackedConsumed; transfer: ArrayBuffer[] } {
  const n = messages.length;
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const lengths = new Uint32Array(n);
  const keys = new Array<string | null>(n);
  let headers: (Readonly<Record<string, string>> | null)[] | null = null;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
    keys[i] = m.key;
    lengths[i] = m.value.byteLength;
    total += m.value.byteLength;
    if (hasKeys(m.headers)) {
      headers ??= new Array<Readonly<Record<string, string>> | null>(n).fill(null);
      headers[i] = m.headers;
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const m of messages) {
    bytes.set(m.value, at);
    at += m.value.byteLength;
  }
  return {
    batch: { topic, partition, offsets, timestamps, keys, lengths, data: bytes.buffer, headers },
    transfer: [bytes.buffer, offsets.buffer, timestamps.buffer, lengths.buffer],
  };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function unpackConsumed(batch: PackedConsumed): ConsumedMessage[] {
  const out = new Array<ConsumedMessage>(batch.keys.length);
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const length = batch.lengths[i]!;
    out[i] = {
      topic: batch.topic,
      partition: batch.partition,
      offset: batch.offsets[i]!,
      key: batch.keys[i]!,
      value: new Uint8Array(batch.data, at, length),
      timestamp: batch.timestamps[i]!,
      headers: batch.headers?.[i] ?? NO_HEADERS,
    };
    at += length;
  }
  return out;
}

function hasKeys(record: Readonly<Record<string, string>>): boolean {
  for (const _ in record) return true;
  return false;
}

const CODES: ReadonlySet<string> = new Set<TransportErrorCode>([
  'UNKNOWN_TOPIC',
  'TOPIC_EXISTS_WITH_OTHER_PARTITIONS',
  'INVALID_PARTITION',
  'NOT_TRANSACTIONAL',
  'PRODUCER_FENCED',
  'PRODUCER_CLOSED',
  'TRANSPORT_CLOSED',
]);

export function toWire(error: unknown): WireError {
  if (error instanceof TransportError) {
    const detail = error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
    return { name: error.name, message: detail, code: error.code };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error on the other side: TransportErrors keep their class and code. */
export function fromWire(wire: WireError): Error {
  if (wire.code !== undefined && CODES.has(wire.code)) return new TransportError(wire.code as TransportErrorCode, wire.message);
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack) error.stack = `${wire.stack}\n    (in the other thread)`;
  return error;
}
