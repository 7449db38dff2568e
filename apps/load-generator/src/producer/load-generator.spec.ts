import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '@parallax/order-book';
import type { CommandBatch } from '@parallax/contracts';
import { decodeCommandBatch, DEFAULT_TOPICS, marketKey, partitionForMarket, topicSpecs } from '@parallax/contracts';
import type { Transport } from '@parallax/transport';
import { createEmbeddedTransport } from '@parallax/transport';
import { runLoadGenerator } from './load-generator.js';
import { generateCommands, LoadGeneratorError } from '../workload/workload.js';

interface Sent {
  partition: number;
  key: string | null;
  batch: CommandBatch;
}

async function readAll(t: Transport, topic = DEFAULT_TOPICS.orders): Promise<Sent[]> {
  const out: Sent[] = [];
  const ends = await t.endOffsets(topic);
  for (const [partition, end] of ends) {
    for await (const msgs of t.read(topic, partition, 0, end)) {
      for (const m of msgs) out.push({ partition: m.partition, key: m.key, batch: decodeCommandBatch(m.value) });
    }
  }
  return out;
}

/** Per market: batches in partition order (one partition holds all of a market's messages). */
function byMarket(sent: readonly Sent[]): Map<number, CommandBatch[]> {
  const m = new Map<number, CommandBatch[]>();
  for (const s of sent) {
    const list = m.get(s.batch.marketId) ?? [];
    list.push(s.batch);
    m.set(s.batch.marketId, list);
  }
  return m;
}

const commandsOf = (batches: readonly CommandBatch[]): Command[] => batches.flatMap((b) => [...b.commands]);

describe('runLoadGenerator', () => {
  it('as fast as possible: sends exactly generateCommands batches, keyed and partitioned by market', async () => {
    const t = createEmbeddedTransport();
    try {
      const before = Date.now();
      const report = await runLoadGenerator(t, { markets: 5, partitions: 3, createTopics: true, seed: 42, batchSize: 40, rate: 0, totalCommands: 3_333, maxMessagesPerSend: 7 });
      // createTopics made the whole pipeline's topics with one partition count.
      assert.equal(await t.partitionCount(DEFAULT_TOPICS.marketEvents), 3);
      assert.equal(await t.partitionCount(DEFAULT_TOPICS.snapshots), 3);
      const sent = await readAll(t);
      assert.equal(report.commands, 3_333);
      assert.equal(report.messages, sent.length);
      assert.equal(report.partitions, 3);
      assert.deepEqual(report.commandsPerMarket, [667, 667, 667, 666, 666]);
      assert.equal(sent.reduce((n, s) => n + s.batch.commands.length, 0), 3_333);
      for (const s of sent) {
        assert.equal(s.partition, partitionForMarket(s.batch.marketId, 3));
        assert.equal(s.key, marketKey(s.batch.marketId));
        assert.ok(s.batch.sentAtMs >= before && s.batch.sentAtMs <= Date.now());
      }
      const expected = generateCommands(42, 5, 3_333, { batchSize: 40 });
      const got = byMarket(sent);
      for (const [id, batches] of expected) {
        assert.deepEqual(
          got.get(id)!.map((b) => b.commands),
          batches.map((b) => b.commands),
          `market ${id}`,
        );
      }
    } finally {
      await t.close();
    }
  });

  it('paced: stops at rate x duration, never ahead of schedule, same per-market sequences', async () => {
    const t = createEmbeddedTransport();
    try {
      await t.ensureTopics(topicSpecs(DEFAULT_TOPICS, 2));
      const rate = 8_000;
      const report = await runLoadGenerator(t, { markets: 3, seed: 9, batchSize: 25, rate, durationSec: 0.3 });
      assert.equal(report.commands, 2_400);
      // Open loop: the last command is not due before (n - 1) / rate seconds.
      assert.ok(report.elapsedSec >= (report.commands - 1) / rate - 0.005, `${report.elapsedSec}s`);
      const sent = await readAll(t);
      for (const s of sent) assert.ok(s.batch.commands.length <= 25);
      const expected = generateCommands(9, 3, 2_400);
      const got = byMarket(sent);
      for (const [id, batches] of expected) assert.deepEqual(commandsOf(got.get(id)!), commandsOf(batches), `market ${id}`);
    } finally {
      await t.close();
    }
  });

  it('stops when aborted and reports what was sent', async () => {
    const t = createEmbeddedTransport();
    try {
      await t.ensureTopics(topicSpecs(DEFAULT_TOPICS, 1));
      const abort = new AbortController();
      setTimeout(() => {
        abort.abort();
      }, 50);
      const report = await runLoadGenerator(t, { markets: 2, seed: 1, batchSize: 10, rate: 2_000, durationSec: 60, signal: abort.signal });
      assert.equal(report.aborted, true);
      assert.ok(report.commands < 2_000 * 5, `${report.commands}`);
      const sent = await readAll(t);
      assert.equal(sent.reduce((n, s) => n + s.batch.commands.length, 0), report.commands);
    } finally {
      await t.close();
    }
  });

  it('refuses a partition count the topic does not have, and runs without an end', async () => {
    const t = createEmbeddedTransport();
    try {
      await t.ensureTopics(topicSpecs(DEFAULT_TOPICS, 4));
      await assert.rejects(
        runLoadGenerator(t, { markets: 2, seed: 1, batchSize: 10, rate: 0, totalCommands: 10, partitions: 3 }),
        (e: unknown) => e instanceof LoadGeneratorError && e.message.includes('4 partitions'),
      );
      await assert.rejects(runLoadGenerator(t, { markets: 2, seed: 1, batchSize: 10, rate: 0 }), (e: unknown) => e instanceof LoadGeneratorError);
      await assert.rejects(runLoadGenerator(t, { markets: 2, seed: 1, batchSize: 0, rate: 0, totalCommands: 1 }), (e: unknown) => e instanceof LoadGeneratorError);
      await assert.rejects(runLoadGenerator(t, { markets: 2, seed: 1, batchSize: 1, rate: -5, totalCommands: 1 }), (e: unknown) => e instanceof LoadGeneratorError);
      assert.deepEqual(await readAll(t), []);
    } finally {
      await t.close();
    }
  });
});
