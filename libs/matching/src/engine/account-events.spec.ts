import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeAccountEventBatch,
  decodeAccountEventBatchEvents,
  decodeEventBatch,
  decodeEventBatchEvents,
  defaultMarkets,
  encodeCommandBatch,
  MAX_MESSAGE_BYTES,
  MarketCatalogue,
  partitionForMarket,
} from '@parallax/contracts';
import type { BookEvent } from '@parallax/order-book';
import type { ConsumedMessage } from '@parallax/transport';
import { crossingFlood } from '../flow/crossing-flood.js';
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
    timestamp: b.commands[0]!.ts,
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
  it("splits one shard's events of a large command batch over several account batches instead of throwing after the book changed", () => {
    // One shard owns every account: it gets nearly all of the flood's ~2 MB of events.
    const marketId = catalogue.all().map((d) => d.marketId).find((id) => partitionForMarket(id, PARTITIONS) === 0)!;
    // 65,000 crossing orders (~740 KB of commands) run at one log time: ~1.2 MB of trade and done events for the one shard.
    const flood = crossingFlood({ marketId, commands: 65_000, firstTs: 1, sentAtMs: 5 });
    const engine = new PartitionEngine({ partition: 0, partitions: PARTITIONS, catalogue, accountShards: 1 });
    const message: ConsumedMessage = { topic: 'orders', partition: 0, offset: 0, key: String(marketId), value: encodeCommandBatch(flood), timestamp: 1_800_000_000_000, headers: {} };
    const result = engine.process([message]);
    assert.equal(result.deadLetters.length, 0);
    assert.ok(result.accountEvents.length >= 2, `the shard's events travel in ${result.accountEvents.length} parts`);
    for (const m of result.accountEvents) assert.ok(m.value.length <= MAX_MESSAGE_BYTES, 'every account batch fits the contract limit');
    // Together the parts carry exactly the funds-moving market events, in order.
    const got = result.accountEvents.flatMap((m) => decodeAccountEventBatchEvents(decodeAccountEventBatch(m.value)).map((e) => e.seq));
    const want = result.outputs
      .flatMap((m) => decodeEventBatchEvents(decodeEventBatch(m.value)))
      .filter((e) => accountsOf(e).length > 0)
      .map((e) => e.seq);
    assert.deepEqual(got, want);
  });

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
