import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaMessage } from 'kafkajs';
import type { ConsumedMessage, OutgoingMessage } from '../transport.js';

/** Protocol error types that mean "a newer producer owns this transactional id". */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
/** INVALID_PRODUCER_EPOCH (47), PRODUCER_FENCED (90; unknown to kafkajs 2.2.4, so it arrives by code only). */
const FENCED_CODES = new Set([47, 90]);

interface ErrorLike {
  readonly type?: unknown;
  readonly code?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/** Walks an error and what it wraps (kafkajs wraps protocol errors in retry errors). */
function* chain(error: unknown): Generator<ErrorLike> {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const e = current as ErrorLike;
    yield e;
    current = e.cause ?? e.originalError;
  }
}

export function isFencedError(error: unknown): boolean {
  for (const e of chain(error)) {
    if (typeof e.type === 'string' && FENCED_TYPES.has(e.type)) return true;
    if (typeof e.code === 'number' && FENCED_CODES.has(e.code) && typeof e.type === 'string') return true;
  }
  return false;
}

/** The coordinator is still writing the previous transaction's markers (retriable, a few ms). */
export function isConcurrentTransactionsError(error: unknown): boolean {
  for (const e of chain(error)) if (e.type === 'CONCURRENT_TRANSACTIONS') return true;
  return false;
}

export function isUnknownTopicError(error: unknown): boolean {
  for (const e of chain(error)) if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  return false;
}

/**
 * Retriable: Kafka or kafkajs says so somewhere in the chain. A kafkajs aggregate of per-topic answers (what
 * CreateTopics returns) is retriable when every answer in it is retriable or TOPIC_ALREADY_EXISTS: a
 * controller that did not finish in the request's timeout (REQUEST_TIMED_OUT) may have created some topics
 * and not others, and the caller asks again for what is still missing.
 */
export function isRetriable(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e.retriable === true) return true;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0 && errors.every((x) => isRetriable(x) || isTopicExistsError(x))) return true;
  }
  return false;
}

export function isTopicExistsError(error: unknown): boolean {
  for (const e of chain(error)) if (e.type === 'TOPIC_ALREADY_EXISTS') return true;
  return false;
}

/**
 * How long an admin call is asked again. Longer than two request timeouts (30 s by default): a broker starved of
 * CPU (load 25 on 2 cores) let a Metadata request time out, and a shorter deadline never retried it.
 */
const ADMIN_RETRY_DEADLINE_MS = 90_000;

/**
 * Retries an admin call on errors Kafka marks retriable (a coordinator still loading, a topic that was just
 * created and has no leader yet...). kafkajs retries some admin calls itself, not all of them.
 */
export async function withRetry<T>(op: () => Promise<T>, deadlineMs = ADMIN_RETRY_DEADLINE_MS, retryUnknownTopic = true, what?: string): Promise<T> {
  const started = Date.now();
  const deadline = started + deadlineMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await op();
    } catch (error) {
      if (!isRetriable(error) || (!retryUnknownTopic && isUnknownTopicError(error))) throw error;
      if (Date.now() + delay > deadline) {
        if (what === undefined) throw error;
        // Say what was being waited for, and for how long; the broker's answer stays the cause.
        throw new Error(`${what}: the broker still answered a retriable error after ${Date.now() - started} ms: ${describe(error)}`, { cause: error });
      }
      await sleep(delay);
    }
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = (error as { errors?: unknown }).errors;
  const inner = Array.isArray(parts) ? ` (${parts.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')})` : '';
  return `${error.message}${inner}`;
}

/** A view of the same bytes: kafkajs wants Buffers, the contract speaks Uint8Array. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toKafkaMessage(m: OutgoingMessage, partition: number): { key: string; value: Buffer; partition: number; headers?: Record<string, string> } {
  return { key: m.key, value: toBuffer(m.value), partition, ...(m.headers ? { headers: { ...m.headers } } : {}) };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A kafkajs message as the contract's ConsumedMessage. The value becomes a plain Uint8Array view of the
 * fetched bytes (a Buffer's `slice` shares memory where Uint8Array's copies: engines must not see the
 * difference between transports).
 */
export function fromKafkaMessage(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const value = m.value ? new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength) : new Uint8Array(0);
  let headers = NO_HEADERS;
  if (m.headers) {
    const decoded: Record<string, string> = {};
    let any = false;
    for (const [name, raw] of Object.entries(m.headers)) {
      const last = Array.isArray(raw) ? raw[raw.length - 1] : raw;
      if (last === undefined) continue;
      decoded[name] = typeof last === 'string' ? last : last.toString('utf8');
      any = true;
    }
    if (any) headers = decoded;
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ? m.key.toString('utf8') : null,
    value,
    timestamp: Number(m.timestamp),
    headers,
  };
}
