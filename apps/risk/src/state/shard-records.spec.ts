// The risk service's own records: exact round trips, and every malformed record refused with its code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RiskServiceError, type RiskServiceErrorCode } from './errors.js';
import { decodeJournalEntry, decodeShardSnapshot, encodeJournalEntry, encodeShardSnapshot, type JournalEntry, type ShardSnapshot } from './shard-records.js';

const refused = (code: RiskServiceErrorCode) => (e: unknown) => e instanceof RiskServiceError && e.code === code;
const entry: JournalEntry = { shard: 3, source: 'accountEvents', seq: 41, from: 2 ** 40, to: 2 ** 40 + 7 };
const snapshot: ShardSnapshot = {
  shard: 1,
  shards: 4,
  journalSeq: 12,
  journalNext: 30,
  inputs: { requests: 10, chainEvents: 0, accountEvents: Number.MAX_SAFE_INTEGER },
  stateHash: '0123456789abcdef',
  state: Uint8Array.from([1, 2, 3, 4, 5]),
};

describe('risk journal entries and shard snapshots', () => {
  it('round-trip exactly', () => {
    assert.deepEqual(decodeJournalEntry(encodeJournalEntry(entry)), entry);
    assert.deepEqual(decodeShardSnapshot(encodeShardSnapshot(snapshot)), snapshot);
  });

  it('refuses truncated, extended, foreign, future-version and out-of-range journal entries', () => {
    const good = encodeJournalEntry(entry);
    assert.throws(() => decodeJournalEntry(good.subarray(0, 39)), refused('UNREADABLE_JOURNAL'));
    assert.throws(() => decodeJournalEntry(Uint8Array.from([...good, 0])), refused('UNREADABLE_JOURNAL'));
    const tamper = (at: number, value: number): Uint8Array => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    assert.throws(() => decodeJournalEntry(tamper(0, 0)), refused('UNREADABLE_JOURNAL'), 'magic');
    assert.throws(() => decodeJournalEntry(tamper(4, 2)), refused('UNREADABLE_JOURNAL'), 'version');
    assert.throws(() => decodeJournalEntry(tamper(5, 3)), refused('UNREADABLE_JOURNAL'), 'source');
    assert.throws(() => decodeJournalEntry(tamper(6, 1)), refused('UNREADABLE_JOURNAL'), 'reserved');
    assert.throws(() => decodeJournalEntry(tamper(12, 0xff)), refused('UNREADABLE_JOURNAL'), 'seq beyond a safe integer');
    const empty = encodeJournalEntry({ ...entry, to: entry.from + 1 });
    empty[35] = empty[27]!; // to = from
    assert.throws(() => decodeJournalEntry(empty), refused('UNREADABLE_JOURNAL'), 'empty range');
    assert.throws(() => encodeJournalEntry({ ...entry, to: entry.from }), RangeError);
    assert.throws(() => encodeJournalEntry({ ...entry, seq: -1 }), RangeError);
  });

  it('refuses truncated, padded, foreign and inconsistent snapshots', () => {
    const good = encodeShardSnapshot(snapshot);
    assert.throws(() => decodeShardSnapshot(good.subarray(0, good.length - 1)), refused('UNREADABLE_SNAPSHOT'));
    assert.throws(() => decodeShardSnapshot(Uint8Array.from([...good, 0])), refused('UNREADABLE_SNAPSHOT'));
    assert.throws(() => decodeShardSnapshot(good.subarray(0, 10)), refused('UNREADABLE_SNAPSHOT'));
    const tamper = (at: number, value: number): Uint8Array => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    assert.throws(() => decodeShardSnapshot(tamper(0, 0)), refused('UNREADABLE_SNAPSHOT'), 'magic');
    assert.throws(() => decodeShardSnapshot(tamper(4, 2)), refused('UNREADABLE_SNAPSHOT'), 'version');
    assert.throws(() => decodeShardSnapshot(tamper(11, 9)), refused('UNREADABLE_SNAPSHOT'), 'shard beyond the shard count');
    assert.throws(() => decodeShardSnapshot(tamper(56, 0)), refused('UNREADABLE_SNAPSHOT'), 'hash length 0');
    assert.throws(() => decodeShardSnapshot(tamper(57, 0x47)), refused('UNREADABLE_SNAPSHOT'), 'hash not hex');
    assert.throws(() => encodeShardSnapshot({ ...snapshot, shard: 4 }), RangeError);
    assert.throws(() => encodeShardSnapshot({ ...snapshot, stateHash: 'XYZ' }), RangeError);
  });
});
