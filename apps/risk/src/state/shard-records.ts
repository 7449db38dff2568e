// The risk service's own records, written only by the risk principal in the transactions of its shards:
//
// - JournalEntry (risk journal topic, partition = shard): "the shard applied [from, to) of source X", one per
//   consumed batch, with the shard's running entry number. The three input partitions of a shard are written
//   by three principals at their own pace, so the order the shard applied them in exists only here; a restore
//   replays the inputs in journal order and gets the same state (the test: risk-shards.int.spec.ts).
// - ShardSnapshot (risk snapshots topic, compacted, key = shardSnapshotKey): the engine state with the
//   journal and input positions it reflects, and its state hash (checked on restore).
//
// Fixed-layout binary, versioned, every field validated on decode: a record that does not decode exactly is
// refused (RiskServiceError), never half-read. Layouts (big-endian):
//   JournalEntry v1 (40 bytes): magic "PXRJ" | u8 version | u8 source | u16 0 | u32 shard | u64 seq |
//                               u64 from | u64 to | u32 0
//   ShardSnapshot v1: magic "PXRS" | u8 version | u8[3] 0 | u32 shard | u32 shards | u64 journalSeq |
//                     u64 journalNext | u64 requests | u64 chainEvents | u64 accountEvents |
//                     u8 hashLength | hash (ASCII hex) | u32 stateLength | state
import { RISK_SOURCES, type RiskSource, type SourceOffsets } from '../shard/account-shard.js';
import { RiskServiceError } from './errors.js';

export const JOURNAL_VERSION = 1;
export const SHARD_SNAPSHOT_VERSION = 1;
const JOURNAL_MAGIC = 0x5058524a; // "PXRJ"
const SNAPSHOT_MAGIC = 0x50585253; // "PXRS"
const JOURNAL_BYTES = 40;
/** A snapshot's engine state may not exceed this (Kafka's default message limit is 1 MiB with headroom). */
export const MAX_SHARD_SNAPSHOT_BYTES = 900 * 1024;

export interface JournalEntry {
  readonly shard: number;
  readonly source: RiskSource;
  readonly seq: number;
  readonly from: number;
  readonly to: number;
}

export interface ShardSnapshot {
  readonly shard: number;
  readonly shards: number;
  readonly journalSeq: number;
  /** A journal offset at or below the entry numbered journalSeq: a restore reads the journal from here. */
  readonly journalNext: number;
  readonly inputs: SourceOffsets;
  readonly stateHash: string;
  readonly state: Uint8Array;
}

export const shardSnapshotKey = (shard: number): string => `risk-shard-${shard}`;

const bad = (what: string, why: string): never => {
  throw new RiskServiceError(what === 'journal' ? 'UNREADABLE_JOURNAL' : 'UNREADABLE_SNAPSHOT', `${what} record: ${why}`);
};

function u64(view: DataView, at: number, what: string, field: string): number {
  const v = view.getBigUint64(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(what, `${field} ${v} is not a safe integer`);
  return Number(v);
}

function checkOffset(n: number, field: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${field} must be a non-negative safe integer, got ${n}`);
}

export function encodeJournalEntry(e: JournalEntry): Uint8Array {
  for (const [f, v] of [['shard', e.shard], ['seq', e.seq], ['from', e.from], ['to', e.to]] as const) checkOffset(v, f);
  if (e.shard > 0xffffffff || e.to <= e.from) throw new RangeError(`journal entry: shard ${e.shard}, range [${e.from}, ${e.to})`);
  const out = new Uint8Array(JOURNAL_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, JOURNAL_MAGIC);
  v.setUint8(4, JOURNAL_VERSION);
  v.setUint8(5, RISK_SOURCES.indexOf(e.source));
  v.setUint32(8, e.shard);
  v.setBigUint64(12, BigInt(e.seq));
  v.setBigUint64(20, BigInt(e.from));
  v.setBigUint64(28, BigInt(e.to));
  return out;
}

export function decodeJournalEntry(bytes: Uint8Array): JournalEntry {
  if (bytes.length !== JOURNAL_BYTES) bad('journal', `${bytes.length} bytes, expected ${JOURNAL_BYTES}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0) !== JOURNAL_MAGIC) bad('journal', 'not a journal entry');
  if (v.getUint8(4) !== JOURNAL_VERSION) bad('journal', `version ${v.getUint8(4)}, this build reads ${JOURNAL_VERSION}`);
  const source = RISK_SOURCES[v.getUint8(5)];
  if (source === undefined) bad('journal', `unknown source ${v.getUint8(5)}`);
  if (v.getUint16(6) !== 0 || v.getUint32(36) !== 0) bad('journal', 'reserved bytes are not zero');
  const e = { shard: v.getUint32(8), source: source!, seq: u64(v, 12, 'journal', 'seq'), from: u64(v, 20, 'journal', 'from'), to: u64(v, 28, 'journal', 'to') };
  if (e.to <= e.from) bad('journal', `empty range [${e.from}, ${e.to})`);
  return e;
}

export function encodeShardSnapshot(s: ShardSnapshot): Uint8Array {
  for (const [f, n] of [['shard', s.shard], ['journalSeq', s.journalSeq], ['journalNext', s.journalNext], ...RISK_SOURCES.map((src) => [src, s.inputs[src]] as const)] as const) checkOffset(n, f);
  if (s.shards < 1 || s.shards > 0xffffffff || s.shard >= s.shards) throw new RangeError(`snapshot of shard ${s.shard}/${s.shards}`);
  if (!/^[0-9a-f]{1,64}$/.test(s.stateHash)) throw new RangeError(`state hash ${s.stateHash}`);
  if (s.state.length > MAX_SHARD_SNAPSHOT_BYTES) throw new RangeError(`engine state of ${s.state.length} bytes exceeds ${MAX_SHARD_SNAPSHOT_BYTES}`);
  const head = 4 + 4 + 4 + 4 + 8 * 5;
  const out = new Uint8Array(head + 1 + s.stateHash.length + 4 + s.state.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, SNAPSHOT_MAGIC);
  v.setUint8(4, SHARD_SNAPSHOT_VERSION);
  v.setUint32(8, s.shard);
  v.setUint32(12, s.shards);
  v.setBigUint64(16, BigInt(s.journalSeq));
  v.setBigUint64(24, BigInt(s.journalNext));
  RISK_SOURCES.forEach((src, i) => {
    v.setBigUint64(32 + 8 * i, BigInt(s.inputs[src]));
  });
  let at = head;
  v.setUint8(at++, s.stateHash.length);
  out.set(new TextEncoder().encode(s.stateHash), at);
  at += s.stateHash.length;
  v.setUint32(at, s.state.length);
  out.set(s.state, at + 4);
  return out;
}

export function decodeShardSnapshot(bytes: Uint8Array): ShardSnapshot {
  const head = 4 + 4 + 4 + 4 + 8 * 5;
  if (bytes.length < head + 1 + 4) bad('snapshot', `${bytes.length} bytes is too short`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0) !== SNAPSHOT_MAGIC) bad('snapshot', 'not a risk shard snapshot');
  if (v.getUint8(4) !== SHARD_SNAPSHOT_VERSION) bad('snapshot', `version ${v.getUint8(4)}, this build reads ${SHARD_SNAPSHOT_VERSION}`);
  if (v.getUint8(5) !== 0 || v.getUint16(6) !== 0) bad('snapshot', 'reserved bytes are not zero');
  const shard = v.getUint32(8);
  const shards = v.getUint32(12);
  if (shards < 1 || shard >= shards) bad('snapshot', `shard ${shard} of ${shards}`);
  const inputs = Object.fromEntries(RISK_SOURCES.map((src, i) => [src, u64(v, 32 + 8 * i, 'snapshot', src)])) as SourceOffsets;
  let at = head;
  const hashLength = v.getUint8(at++);
  if (hashLength < 1 || hashLength > 64 || at + hashLength + 4 > bytes.length) bad('snapshot', `hash length ${hashLength}`);
  const stateHash = new TextDecoder().decode(bytes.subarray(at, at + hashLength));
  if (!/^[0-9a-f]+$/.test(stateHash)) bad('snapshot', 'state hash is not hex');
  at += hashLength;
  const stateLength = v.getUint32(at);
  at += 4;
  if (at + stateLength !== bytes.length) bad('snapshot', `state of ${stateLength} bytes in a record of ${bytes.length}`);
  return {
    shard,
    shards,
    journalSeq: u64(v, 16, 'snapshot', 'journalSeq'),
    journalNext: u64(v, 24, 'snapshot', 'journalNext'),
    inputs,
    stateHash,
    state: bytes.slice(at),
  };
}
