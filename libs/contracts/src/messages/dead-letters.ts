// `deadLetters` topic (key = deadLetterKey(topic, partition)): a message a consumer could not process,
// with a stable reason code, so the partition keeps flowing and an operator can inspect or replay it.
//
// Body: reason, detail, topic (length-prefixed UTF-8), partition, offset, key presence byte (0 | 1) and
// key, value (length-prefixed bytes). The encoder truncates detail, key and value to their limits so that
// writing a dead letter never fails on an oversized original; the decoder refuses anything longer.
import { isValidTopicName } from '../catalogue/topics.js';
import { checkUint, ContractReader, ContractWriter, invalidField, MessageType } from '../wire.js';

export interface DeadLetter {
  /** Stable UPPER_SNAKE code: MALFORMED_MESSAGE, UNKNOWN_MARKET, WRONG_PARTITION, ENGINE_ERROR, ... */
  readonly reason: string;
  /** Human-readable explanation (at most MAX_DEAD_LETTER_DETAIL_CHARS, truncated by the encoder). */
  readonly detail: string;
  /** Source topic, partition and offset of the original message. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Original key (at most MAX_DEAD_LETTER_KEY_CHARS, truncated by the encoder). */
  readonly key: string | null;
  /** Original value bytes, truncated to MAX_DEAD_LETTER_VALUE_BYTES. */
  readonly value: Uint8Array;
}

export const MAX_DEAD_LETTER_VALUE_BYTES = 64 * 1024;
export const MAX_DEAD_LETTER_DETAIL_CHARS = 4096;
export const MAX_DEAD_LETTER_KEY_CHARS = 1024;
const REASON_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

const shared = new ContractWriter();

/** Cuts s to at most n UTF-16 code units without splitting a surrogate pair. */
function truncate(s: string, n: number): string {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

export function encodeDeadLetter(d: DeadLetter): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.DeadLetter);
  if (typeof d.reason !== 'string' || !REASON_RE.test(d.reason)) invalidField('reason', d.reason, 'an UPPER_SNAKE code of 1..64 chars');
  if (typeof d.detail !== 'string') invalidField('detail', d.detail, 'a string');
  if (!isValidTopicName(d.topic)) invalidField('topic', d.topic, 'a Kafka topic name');
  const key = d.key;
  if (key !== null && typeof key !== 'string') invalidField('key', key, 'a string or null');
  const value = d.value;
  if (!(value instanceof Uint8Array)) invalidField('value', value, 'bytes');
  w.string(d.reason);
  w.string(truncate(d.detail, MAX_DEAD_LETTER_DETAIL_CHARS));
  w.string(d.topic);
  w.uint(checkUint(d.partition, 'partition'));
  w.uint(checkUint(d.offset, 'offset'));
  if (key === null) {
    w.byte(0);
  } else {
    w.byte(1);
    w.string(truncate(key, MAX_DEAD_LETTER_KEY_CHARS));
  }
  w.blob(value.length > MAX_DEAD_LETTER_VALUE_BYTES ? value.subarray(0, MAX_DEAD_LETTER_VALUE_BYTES) : value);
  return w.finish('dead letter');
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  const r = new ContractReader(bytes, MessageType.DeadLetter);
  const reason = r.string('reason', 64);
  if (!REASON_RE.test(reason)) r.fail('INVALID_FIELD', 'reason must be an UPPER_SNAKE code');
  const detail = r.string('detail', MAX_DEAD_LETTER_DETAIL_CHARS);
  const topic = r.string('topic', 249);
  if (!isValidTopicName(topic)) r.fail('INVALID_FIELD', 'topic is not a Kafka topic name');
  const partition = r.uint();
  const offset = r.uint();
  const hasKey = r.byte();
  if (hasKey > 1) r.fail('MALFORMED_MESSAGE', `key presence byte ${hasKey}`);
  const key = hasKey === 1 ? r.string('key', MAX_DEAD_LETTER_KEY_CHARS) : null;
  const value = r.blob('value', MAX_DEAD_LETTER_VALUE_BYTES);
  r.end();
  return { reason, detail, topic, partition, offset, key, value };
}
