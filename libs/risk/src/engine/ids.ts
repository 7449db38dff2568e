// Account identity across shards. The trader's address is the account; it lives on shard
// shardForAccount(address). The numeric ids the books use are minted by that shard as
// counter * shards + shard (counter from 1, kept in the snapshot): two shards can never mint the same id,
// minting needs no coordination, and id % shards names the owning shard, so anything holding an id (the
// matching engine keying account events, the API) finds the shard without a lookup. Order ids are minted
// the same way, so they are unique across all markets and shards too. The shard count is therefore fixed
// for a deployment, like the partition count of a keyed topic.
import type { Address } from './types.js';

const ADDRESS_RE = /^0x[0-9a-f]{40}$/;

/** True for a lower-case 20-byte hex address (the only form the engine accepts: one spelling per account). */
export function isAddress(a: unknown): a is Address {
  return typeof a === 'string' && a.length === 42 && ADDRESS_RE.test(a);
}

/**
 * The shard that owns an account: its last 4 address bytes modulo the shard count (addresses are hash
 * outputs, so this spreads evenly). Throws RangeError for a malformed address or shard count.
 */
export function shardForAccount(account: Address, shards: number): number {
  if (!isAddress(account)) throw new RangeError(`not a lower-case address: ${String(account)}`);
  if (!Number.isInteger(shards) || shards < 1 || shards > 10_000) throw new RangeError(`shards must be in 1..10000, got ${shards}`);
  return Number.parseInt(account.slice(34), 16) % shards;
}

/** The shard that minted an account id or order id. */
export function shardForId(id: number, shards: number): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`not an id: ${id}`);
  if (!Number.isInteger(shards) || shards < 1 || shards > 10_000) throw new RangeError(`shards must be in 1..10000, got ${shards}`);
  return id % shards;
}

/** The id minted by `shard` for its `counter`-th account or order (counter >= 1). */
export function mintId(counter: number, shard: number, shards: number): number {
  return counter * shards + shard;
}
