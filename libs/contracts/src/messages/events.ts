// `marketEvents` topic: the order-book events one input message produced (key = marketKey,
// partition = partitionForMarket). An input message that produced no events produces no EventBatch.
//
// Body: marketId, inputPartition, inputOffset, firstSeq, eventCount, stateHash (8 raw bytes), sentAtMs,
// events (length-prefixed @parallax/order-book codec bytes). lastSeq is not sent: book sequences grow by
// exactly one per event, so lastSeq = firstSeq + eventCount - 1 (the encoder checks it).
import type { BookEvent } from '@parallax/order-book';
import { decodeEvents, OrderBookError } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import { checkUint, ContractReader, ContractWriter, invalidField, MAX_MESSAGE_BYTES, MessageType, readStateHash, writeStateHash } from '../wire.js';

export interface EventBatch {
  readonly marketId: number;
  /** Partition of the orders topic the input command message came from. */
  readonly inputPartition: number;
  /** Offset of the command message that produced these events. */
  readonly inputOffset: number;
  /** Sequence of the first event (>= 1). */
  readonly firstSeq: number;
  /** Sequence of the last event = firstSeq + eventCount - 1. */
  readonly lastSeq: number;
  /** Number of events (>= 1). */
  readonly eventCount: number;
  /**
   * OrderBook.stateHash() after the whole input message was applied (16 lowercase hex chars). When one input's
   * events exceed MAX_EVENT_BYTES_PER_BATCH they travel as several EventBatches with the same inputOffset and
   * consecutive seq ranges, and every part carries this same hash (the book has no state between parts).
   */
  readonly stateHash: string;
  /** Copied from the CommandBatch (latency metrics only). */
  readonly sentAtMs: number;
  /** @parallax/order-book event codec bytes (encodeEvents / EventEncoder). */
  readonly events: Uint8Array;
}

/**
 * The most event bytes one EventBatch may carry: the message limit less room for its header (magic, type,
 * version, six varints of at most 8 bytes, the 8-byte hash and the blob's length prefix: under 64 bytes).
 * An engine splits an input's events at event boundaries to stay within it.
 */
export const MAX_EVENT_BYTES_PER_BATCH = MAX_MESSAGE_BYTES - 64;

const shared = new ContractWriter();

export function encodeEventBatch(b: EventBatch): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.EventBatch);
  w.uint(checkUint(b.marketId, 'marketId'));
  w.uint(checkUint(b.inputPartition, 'inputPartition'));
  w.uint(checkUint(b.inputOffset, 'inputOffset'));
  const firstSeq = checkUint(b.firstSeq, 'firstSeq');
  const count = checkUint(b.eventCount, 'eventCount');
  const lastSeq = checkUint(b.lastSeq, 'lastSeq');
  if (firstSeq < 1) invalidField('firstSeq', firstSeq, '>= 1');
  if (count < 1) invalidField('eventCount', count, '>= 1 (an input without events produces no EventBatch)');
  // Compared by subtraction: firstSeq + count - 1 could round above 2^53.
  if (lastSeq < firstSeq || lastSeq - firstSeq !== count - 1) {
    throw new ContractError('INVALID_FIELD', `lastSeq ${lastSeq} != firstSeq ${firstSeq} + eventCount ${count} - 1`);
  }
  w.uint(firstSeq);
  w.uint(count);
  writeStateHash(w, b.stateHash, 'stateHash');
  w.uint(checkUint(b.sentAtMs, 'sentAtMs'));
  writeEventBytes(w, b.events);
  return w.finish('event batch');
}

export function decodeEventBatch(bytes: Uint8Array): EventBatch {
  const r = new ContractReader(bytes, MessageType.EventBatch);
  const marketId = r.uint();
  const inputPartition = r.uint();
  const inputOffset = r.uint();
  const firstSeq = r.uint();
  const eventCount = r.uint();
  if (firstSeq < 1) r.fail('INVALID_FIELD', 'firstSeq must be >= 1');
  if (eventCount < 1) r.fail('INVALID_FIELD', 'eventCount must be >= 1');
  if (eventCount - 1 > Number.MAX_SAFE_INTEGER - firstSeq) r.fail('INVALID_FIELD', 'lastSeq beyond the safe integer range');
  const lastSeq = firstSeq + eventCount - 1;
  const stateHash = readStateHash(r);
  const sentAtMs = r.uint();
  const events = readEventBytes(r);
  r.end();
  return { marketId, inputPartition, inputOffset, firstSeq, lastSeq, eventCount, stateHash, sentAtMs, events };
}

/**
 * The batch's events as objects, checked against the batch header (count and contiguous seq range).
 * Throws ContractError (MALFORMED_MESSAGE for undecodable event bytes, INVALID_FIELD for a mismatch).
 */
export function decodeEventBatchEvents(batch: EventBatch): BookEvent[] {
  const events = decodeEventBytes(batch.events);
  if (events.length !== batch.eventCount) {
    throw new ContractError('INVALID_FIELD', `event batch announces ${batch.eventCount} events, carries ${events.length}`);
  }
  for (let i = 0; i < events.length; i++) {
    const seq = events[i]!.seq;
    if (seq !== batch.firstSeq + i) {
      throw new ContractError('INVALID_FIELD', `event ${i} has seq ${seq}, expected ${batch.firstSeq + i}`);
    }
  }
  return events;
}

/** The codec bytes of a batch's events (market and account event batches): non-empty bytes. */
export function writeEventBytes(w: ContractWriter, events: unknown): void {
  if (!(events instanceof Uint8Array)) invalidField('events', events, 'bytes');
  if (events.length === 0) invalidField('events', 0, 'non-empty bytes');
  w.blob(events);
}

export function readEventBytes(r: ContractReader): Uint8Array {
  const events = r.blob('events', MAX_MESSAGE_BYTES);
  if (events.length === 0) r.fail('INVALID_FIELD', 'events must not be empty');
  return events;
}

/** Event codec bytes as objects; undecodable bytes are the message's fault (MALFORMED_MESSAGE), not the book's. */
export function decodeEventBytes(bytes: Uint8Array): BookEvent[] {
  try {
    return decodeEvents(bytes);
  } catch (e) {
    if (e instanceof OrderBookError) throw new ContractError('MALFORMED_MESSAGE', `event bytes: ${e.message}`);
    throw e;
  }
}
