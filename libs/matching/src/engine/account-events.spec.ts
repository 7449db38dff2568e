import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeAccountEventBatch,
  decodeAccountEventBatchEvents,
  decodeEventBatch,
  decodeEventBatchEvents,
  defaultMarkets,
  encodeCommandBatch,
  MarketCatalogue,
  partitionForMarket,
} from '@parallax/contracts';
import type { BookEvent } from '@parallax/order-book';
import type { ConsumedMessage } from '@parallax/transport';
import { syntheticOrderFlow } from '../flow/synthetic-flow.js';
import { PartitionEngine } from './partition-engine.js';

const catalogue = new MarketCatalogue(defaultMarkets(6));
const PARTITIONS = 2;
const SHARDS = 3;

function log(partition: number): ConsumedMessage[] {
  const markets = catalogue
    .all()
    .map((d) => d.marketId)
    .filter((id) => partitionForMarket(id, PARTITIONS) === partition);
  return syntheticOrderFlow({ seed: 11, marketIds: markets, batches: 300, maxCommandsPerBatch: 10 }).map((b, offset) => ({
    topic: 'orders',
    partition,
    offset,
    key: String(b.marketId),
    value: encodeCommandBatch(b),
    timestamp: 0,
    headers: {},
  }));
}

/** The account ids an event concerns (for funds). */
function accountsOf(e: BookEvent): number[] {
  switch (e.type) {
    case 'trade':
      return [e.makerAccountId, e.takerAccountId];
    case 'rejected':
    case 'done':
    case 'amended':
      return [e.accountId];
    case 'accepted':
    case 'level':
      return [];
  }
}

describe('PartitionEngine account events', () => {
  it('sends every funds-moving event to the shard of each account it concerns, exactly once, in the same process() result', () => {
    const input = log(1);
    const engine = new PartitionEngine({ partition: 1, partitions: PARTITIONS, catalogue, accountShards: SHARDS });
    const result = engine.process(input);
    assert.ok(result.accountEvents.length > 0);
    // What the shards should get, from the market events.
    const want = new Map<string, number[]>();
    for (const out of result.outputs) {
      const batch = decodeEventBatch(out.value);
      for (const e of decodeEventBatchEvents(batch)) {
        for (const a of new Set(accountsOf(e).map((id) => id % SHARDS))) {
          const k = `${a}/${batch.marketId}`;
          want.set(k, [...(want.get(k) ?? []), e.seq]);
        }
      }
    }
    const got = new Map<string, number[]>();
    for (const m of result.accountEvents) {
      const batch = decodeAccountEventBatch(m.value);
      const events = decodeAccountEventBatchEvents(batch);
      for (const e of events) {
        assert.ok(accountsOf(e).some((id) => id % SHARDS === m.partition), `event ${e.seq} sent to shard ${m.partition}`);
        const k = `${m.partition}/${batch.marketId}`;
        got.set(k, [...(got.get(k) ?? []), e.seq]);
      }
      assert.equal(Number(m.key) % SHARDS, m.partition);
    }
    assert.deepEqual(new Map([...got].sort()), new Map([...want].sort()));
    // Deterministic: the same log gives the same account events.
    const again = new PartitionEngine({ partition: 1, partitions: PARTITIONS, catalogue, accountShards: SHARDS }).process(input);
    assert.deepEqual(
      again.accountEvents.map((m) => [m.partition, m.key, Buffer.from(m.value).toString('hex')]),
      result.accountEvents.map((m) => [m.partition, m.key, Buffer.from(m.value).toString('hex')]),
    );
  });

  it('produces none without account shards, and none on silent replay', () => {
    const input = log(0);
    assert.deepEqual(new PartitionEngine({ partition: 0, partitions: PARTITIONS, catalogue }).process(input).accountEvents, []);
    const e = new PartitionEngine({ partition: 0, partitions: PARTITIONS, catalogue, accountShards: SHARDS });
    e.restore([], input.slice(0, 100));
    const rest = e.process(input.slice(100));
    const full = new PartitionEngine({ partition: 0, partitions: PARTITIONS, catalogue, accountShards: SHARDS }).process(input);
    const tail = full.accountEvents.filter((m) => decodeAccountEventBatch(m.value).inputOffset >= 100);
    assert.deepEqual(
      rest.accountEvents.map((m) => Buffer.from(m.value).toString('hex')),
      tail.map((m) => Buffer.from(m.value).toString('hex')),
    );
  });
});
