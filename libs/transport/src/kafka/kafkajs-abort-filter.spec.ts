// kafkajs 2.2.4 filters aborted transactions out of a fetch in `Batch` (consumer/batch.js, through
// consumer/filterAbortedMessages.js); patches/kafkajs+2.2.4.patch (applied by `postinstall`) corrects it.
// These cases fail on an unpatched kafkajs, so a checkout whose patch did not apply is caught here; the
// broker-level cases are in kafka-markers.int.spec.ts.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

interface RawRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly isControlRecord: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}
interface BatchLike {
  readonly messages: readonly RawRecord[];
}
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: { partition: number; highWatermark: string; messages: RawRecord[]; abortedTransactions: { producerId: string; firstOffset: string }[] },
) => BatchLike;

const Batch = createRequire(import.meta.url)('kafkajs/src/consumer/batch.js') as BatchClass;

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const data = (offset: number, producerId: string, inTransaction: boolean, key: Buffer | null = null): RawRecord => ({
  offset: String(offset),
  key,
  value: Buffer.from(`${producerId}@${offset}`),
  isControlRecord: false,
  batchContext: { producerId, inTransaction },
});
const marker = (offset: number, producerId: string, key: Buffer): RawRecord => ({
  offset: String(offset),
  key,
  value: Buffer.alloc(6),
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});
const delivered = (fetchedOffset: number, messages: RawRecord[], aborted: [producerId: string, firstOffset: number][]): string[] =>
  new Batch('t', String(fetchedOffset), {
    partition: 0,
    highWatermark: '100',
    messages,
    abortedTransactions: aborted.map(([producerId, firstOffset]) => ({ producerId, firstOffset: String(firstOffset) })),
  }).messages.map((m) => m.offset);

describe('kafkajs (patched): aborted transactions in a fetch', () => {
  // Log: P 0, Q 1, P 2, Q 3, abort P 4, abort Q 5, plain R 6. The broker lists both aborted transactions
  // (in the order of their markers) for any fetch that overlaps them.
  const log = [data(0, 'P', true), data(1, 'Q', true), data(2, 'P', true), data(3, 'Q', true), marker(4, 'P', ABORT), marker(5, 'Q', ABORT), data(6, 'R', false)];
  const aborted: [string, number][] = [
    ['P', 0],
    ['Q', 1],
  ];

  it('drops the records of every aborted transaction whatever offset the fetch begins at', () => {
    for (let from = 0; from <= 6; from++) {
      assert.deepEqual(delivered(from, log.slice(from), aborted), ['6'], `a fetch from offset ${from}`);
    }
  });

  it('keeps a committed transaction that follows an aborted one of the same producer', () => {
    const more = [...log, data(7, 'P', true), marker(8, 'P', COMMIT)];
    assert.deepEqual(delivered(3, more.slice(3), aborted), ['6', '7']);
  });

  it('a data record keyed with four zero bytes is no abort marker', () => {
    const zeroKey = [data(0, 'P', true), data(1, 'P', true, ABORT), data(2, 'P', true), marker(3, 'P', ABORT), data(4, 'R', false)];
    assert.deepEqual(delivered(0, zeroKey, [['P', 0]]), ['4']);
  });
});
