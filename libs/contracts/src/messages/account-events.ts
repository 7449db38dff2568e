// `account-events` topic (type 8): what one input message of a market did to the orders of ONE account
// shard, written by the matching engine in the same transaction as the market events, so the shard that
// holds an order's funds learns exactly once what happened to it. Partition = shardForId(accountId, P) of
// the accounts concerned (the shard that minted their ids); key = the first event's account id. A trade
// between accounts of two shards appears in both shards' batches (each applies its own side).
//
// Body: marketId, inputPartition, inputOffset, sentAtMs, events (length-prefixed @parallax/order-book codec
// bytes: the subset of the market's events that concern the shard, with their market sequence numbers,
// strictly increasing but not contiguous).
import type { BookEvent } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import { checkUint, ContractReader, ContractWriter, MessageType } from '../wire.js';
import { decodeEventBytes, readEventBytes, writeEventBytes } from './events.js';

export interface AccountEventBatch {
  readonly marketId: number;
  /** Partition of the orders topic the input came from, and its offset (audit, dead letters). */
  readonly inputPartition: number;
  readonly inputOffset: number;
  /** Copied from the command batch (latency metrics only). */
  readonly sentAtMs: number;
  /** @parallax/order-book event codec bytes of at least one event. */
  readonly events: Uint8Array;
}

const shared = new ContractWriter();

export function encodeAccountEventBatch(b: AccountEventBatch): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.AccountEventBatch);
  w.uint(checkUint(b.marketId, 'marketId'));
  w.uint(checkUint(b.inputPartition, 'inputPartition'));
  w.uint(checkUint(b.inputOffset, 'inputOffset'));
  w.uint(checkUint(b.sentAtMs, 'sentAtMs'));
  writeEventBytes(w, b.events);
  return w.finish('account event batch');
}

export function decodeAccountEventBatch(bytes: Uint8Array): AccountEventBatch {
  const r = new ContractReader(bytes, MessageType.AccountEventBatch);
  const marketId = r.uint();
  const inputPartition = r.uint();
  const inputOffset = r.uint();
  const sentAtMs = r.uint();
  const events = readEventBytes(r);
  r.end();
  return { marketId, inputPartition, inputOffset, sentAtMs, events };
}

/**
 * The batch's events as objects: at least one, with strictly increasing sequence numbers. Throws
 * ContractError (MALFORMED_MESSAGE for undecodable event bytes, INVALID_FIELD for an empty or unordered list).
 */
export function decodeAccountEventBatchEvents(batch: AccountEventBatch): BookEvent[] {
  const events = decodeEventBytes(batch.events);
  if (events.length === 0) throw new ContractError('INVALID_FIELD', 'an account event batch carries at least one event');
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.seq <= events[i - 1]!.seq) throw new ContractError('INVALID_FIELD', `event ${i} has seq ${events[i]!.seq} after ${events[i - 1]!.seq}`);
  }
  return events;
}
