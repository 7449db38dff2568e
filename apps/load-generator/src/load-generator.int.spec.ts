// Against a real Kafka broker: the library run and the CLI binary both land the seeded workload in the orders
// topic, partitioned by market. Needs KAFKA_BROKERS (`npm run test:integration` starts a broker and sets it);
// without it the suite is reported as skipped, not passed. Kept at the package root so that the unit-test
// glob dist/*/*.spec.js does not pick it up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Command } from '@parallax/order-book';
import type { CommandBatch, TopicNames } from '@parallax/contracts';
import { decodeCommandBatch, marketKey, partitionForMarket } from '@parallax/contracts';
import type { Transport } from '@parallax/transport';
import { openKafkaTransport } from './producer/kafka.js';
import { runLoadGenerator } from './producer/load-generator.js';
import { generateCommands } from './workload/workload.js';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((b) => b !== '');
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function uniqueTopics(): TopicNames {
  const id = randomUUID().slice(0, 8);
  return { orders: `lg-it-${id}.orders`, marketEvents: `lg-it-${id}.events`, snapshots: `lg-it-${id}.snapshots`, deadLetters: `lg-it-${id}.dlq` };
}

async function readOrders(t: Transport, topic: string): Promise<{ partition: number; key: string | null; batch: CommandBatch }[]> {
  const out: { partition: number; key: string | null; batch: CommandBatch }[] = [];
  for (const [partition, end] of await t.endOffsets(topic)) {
    for await (const msgs of t.read(topic, partition, 0, end)) {
      for (const m of msgs) out.push({ partition: m.partition, key: m.key, batch: decodeCommandBatch(m.value) });
    }
  }
  return out;
}

function perMarket(batches: readonly CommandBatch[]): Map<number, Command[]> {
  const m = new Map<number, Command[]>();
  for (const b of batches) m.set(b.marketId, [...(m.get(b.marketId) ?? []), ...b.commands]);
  return m;
}

const skip = brokers.length === 0 ? 'KAFKA_BROKERS is not set (npm run test:integration provides a broker)' : false;

describe('load generator on Kafka', { timeout: 120_000, skip }, () => {
  let t: Transport;
  before(async () => {
    t = await openKafkaTransport(brokers, 'load-generator-it');
  });
  after(async () => {
    await t.close();
  });

  it('runLoadGenerator writes generateCommands per market, keyed and partitioned by market', async () => {
    const topics = uniqueTopics();
    const report = await runLoadGenerator(t, { markets: 6, partitions: 4, createTopics: true, topics, seed: 5, batchSize: 50, rate: 0, totalCommands: 12_000 });
    assert.equal(report.commands, 12_000);
    const sent = await readOrders(t, topics.orders);
    assert.equal(sent.length, report.messages);
    for (const s of sent) {
      assert.equal(s.partition, partitionForMarket(s.batch.marketId, 4));
      assert.equal(s.key, marketKey(s.batch.marketId));
    }
    const got = perMarket(sent.map((s) => s.batch));
    for (const [id, batches] of generateCommands(5, 6, 12_000, { batchSize: 50 })) {
      assert.deepEqual(got.get(id), batches.flatMap((b) => [...b.commands]), `market ${id}`);
    }
  });

  it('the CLI sends to an existing topic and prints its report', async () => {
    const topics = uniqueTopics();
    await t.ensureTopics([{ name: topics.orders, partitions: 2 }]);
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN, '--markets', '3', '--count', '3000', '--batch', '20', '--seed', '8', '--rate', '20000', '--topic', topics.orders], {
      env: { ...process.env, KAFKA_BROKERS: brokers.join(',') },
    });
    const report = JSON.parse(stdout) as { commands: number; messages: number; partitions: number };
    assert.equal(report.commands, 3000);
    assert.equal(report.partitions, 2);
    const sent = await readOrders(t, topics.orders);
    assert.equal(sent.length, report.messages);
    const got = perMarket(sent.map((s) => s.batch));
    for (const [id, batches] of generateCommands(8, 3, 3000)) assert.deepEqual(got.get(id), batches.flatMap((b) => [...b.commands]), `market ${id}`);
  });
});
