// The whole consume-match-produce pipeline on the embedded log (no services): several markets over several
// partitions, engines in one consumer group, compared to a single-process replay of the same commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCommandBatch, marketKey, type CommandBatch } from '@parallax/contracts';
import { syntheticOrderFlow } from '@parallax/matching';
import { createLogger } from '@parallax/observability';
import { createEmbeddedTransport, TransportError, type EmbeddedTransport } from '@parallax/transport';
import { startMatchingEngine, type MatchingEngineHandle } from './bootstrap.js';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { transactionalIdFor } from '../matching/matching.service.js';
import {
  assertSameStreams,
  produce,
  readDeadLetters,
  readStreams,
  referenceStreams,
  sendRaw,
  sleep,
  testConfig,
  waitForCommitted,
} from '../testing/test-support.js';

const logger = createLogger('matching-engine', 'silent');

function flow(seed: number, config: MatchingEngineConfig, batches: number): CommandBatch[] {
  return syntheticOrderFlow({
    seed,
    marketIds: config.catalogue.all().map((d) => d.marketId),
    batches,
    maxCommandsPerBatch: 10,
  });
}

async function start(log: EmbeddedTransport, config: MatchingEngineConfig, instanceId: string): Promise<MatchingEngineHandle> {
  // Every instance gets its own client of the shared log, as a worker thread would.
  return startMatchingEngine({ ...config, instanceId }, log.client(), { logger });
}

describe('matching engine pipeline (embedded log)', () => {
  it('two instances in one group produce exactly the single-process streams, and serve /metrics, /health and /ready', async () => {
    const log = createEmbeddedTransport();
    const config = testConfig({ snapshotEveryMessages: 40 });
    const batches = flow(1, config, 1600);
    const a = await start(log, config, 'a');
    const b = await start(log, config, 'b');
    try {
      assert.deepEqual([...a.service.ownedPartitions(), ...b.service.ownedPartitions()].sort(), [0, 1, 2, 3]);
      await produce(log, config, batches, 37);
      await waitForCommitted(log, config, 20_000, [a.stopped, b.stopped]);
      assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));

      const health = await fetch(`${a.url}/health`);
      assert.equal(health.status, 200);
      // /ready: both joined and restored what they own, between them every partition.
      type Ready = { status: string; details: { partitions: { status: string; owned: number[]; restoring?: number[] } } };
      const readyA = (await (await fetch(`${a.url}/ready`)).json()) as Ready;
      const readyB = (await (await fetch(`${b.url}/ready`)).json()) as Ready;
      assert.deepEqual([readyA.status, readyB.status], ['ok', 'ok']);
      assert.deepEqual([...readyA.details.partitions.owned, ...readyB.details.partitions.owned].sort(), [0, 1, 2, 3]);
      // A rebalance in progress (revoked, not yet re-assigned) is not ready; the next assignment is.
      const owned = a.service.ownedPartitions().map((partition) => ({ topic: config.topics.orders, partition }));
      await a.service.revoked([]);
      const during = await fetch(`${a.url}/ready`);
      assert.equal(during.status, 503);
      const notReady = (await during.json()) as Ready;
      assert.equal(notReady.status, 'error');
      assert.equal(notReady.details.partitions.status, 'down');
      await a.service.assigned(owned);
      assert.equal((await fetch(`${a.url}/ready`)).status, 200);
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      const commands = sumMetric(await (await fetch(`${a.url}/metrics`)).text(), 'parallax_engine_commands_total') + sumMetric(metrics, 'parallax_engine_commands_total');
      assert.equal(commands, batches.reduce((n, x) => n + x.commands.length, 0));
      for (const name of [
        'parallax_engine_events_total{',
        'parallax_engine_match_latency_seconds_bucket',
        'parallax_engine_end_to_end_latency_seconds_count',
        'parallax_engine_consumer_lag_messages{',
        'parallax_engine_snapshot_age_seconds{',
        'parallax_engine_rebalances_total',
        'parallax_engine_snapshots_total{',
      ]) {
        assert.ok(metrics.includes(name), `metric ${name} missing`);
      }
    } finally {
      await a.close();
      await b.close();
      await log.close();
    }
  });

  it('dead-letters poison messages with their reason while the good ones flow', async () => {
    const log = createEmbeddedTransport();
    const config = testConfig();
    const batches = flow(2, config, 400);
    const e = await start(log, config, 'solo');
    try {
      await produce(log, config, batches.slice(0, 200));
      const good = batches[0]!;
      await sendRaw(log, config.topics.orders, [
        { key: 'junk', partition: 1, value: new Uint8Array([0x50, 1, 1, 0xff, 0xff]) },
        { key: marketKey(99), partition: 3, value: encodeCommandBatch({ marketId: 99, sentAtMs: 0, commands: good.commands }) },
        // Market 2 lives on partition 2: a producer that put it on 0 used the wrong partitioner.
        { key: marketKey(2), partition: 0, value: encodeCommandBatch({ marketId: 2, sentAtMs: 0, commands: good.commands }) },
      ]);
      await produce(log, config, batches.slice(200));
      await waitForCommitted(log, config, 20_000, [e.stopped]);
      assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));
      const dead = await readDeadLetters(log, config);
      assert.deepEqual(
        dead.map((d) => [d.partition, d.reason]),
        [
          [0, 'WRONG_PARTITION'],
          [1, 'MALFORMED_MESSAGE'],
          [3, 'UNKNOWN_MARKET'],
        ],
      );
      assert.ok(dead.every((d) => d.topic === config.topics.orders));
      const metrics = await (await fetch(`${e.url}/metrics`)).text();
      assert.equal(sumMetric(metrics, 'parallax_engine_dead_letters_total'), 3);
    } finally {
      await e.close();
      await log.close();
    }
  });

  it('restarting from its snapshots (plus a silent replay) continues the identical streams', async () => {
    const log = createEmbeddedTransport();
    // Small batches and a snapshot every 23 messages: the last snapshot usually sits before the commit point.
    const config = testConfig({ snapshotEveryMessages: 23, maxBatchMessages: 6 });
    const batches = flow(3, config, 1200);
    const first = await start(log, config, 'first');
    await produce(log, config, batches.slice(0, 700));
    await waitForCommitted(log, config, 20_000, [first.stopped]);
    await first.close();

    await produce(log, config, batches.slice(700));
    const second = await start(log, config, 'second');
    try {
      const reports = second.service.restoreReports();
      assert.equal(reports.length, 4);
      assert.ok(reports.every((r) => r.snapshots > 0), 'every partition restored from snapshots');
      assert.ok(reports.some((r) => r.replayed > 0), 'some partition replayed input past its snapshot');
      // The replay starts at the snapshots, not at the beginning of the log.
      assert.ok(reports.every((r) => r.replayFrom > 0 && r.replayFrom <= (r.committed ?? 0)));
      await waitForCommitted(log, config, 20_000, [second.stopped]);
      assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));
    } finally {
      await second.close();
      await log.close();
    }
  });

  it('an instance leaving mid-stream hands its partitions over with no loss and no duplicate', async () => {
    const log = createEmbeddedTransport();
    const config = testConfig({ snapshotEveryMessages: 31, maxBatchMessages: 8 });
    const batches = flow(4, config, 2400);
    const a = await start(log, config, 'a');
    const b = await start(log, config, 'b');
    try {
      const producing = produce(log, config, batches, 20);
      // Leave while input is still arriving and being matched.
      await waitUntil(async () => (await committedTotal(log, config)) > 300);
      await a.close();
      assert.deepEqual(b.service.ownedPartitions(), [0, 1, 2, 3]);
      await producing;
      await waitForCommitted(log, config, 20_000, [b.stopped]);
      assert.ok(b.service.restoreReports().length >= 4);
      assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));
    } finally {
      await a.close();
      await b.close();
      await log.close();
    }
  });

  it('a fenced zombie stops without committing; the survivor restores and nothing is lost or duplicated', async () => {
    const log = createEmbeddedTransport();
    const config = testConfig({ snapshotEveryMessages: 17, maxBatchMessages: 5 });
    const batches = flow(5, config, 1500);
    const zombie = await start(log, config, 'zombie');
    const zombiePartition = zombie.service.ownedPartitions()[0]!;
    try {
      await produce(log, config, batches.slice(0, 500));
      await waitForCommitted(log, config, 20_000, [zombie.stopped]);
      // Someone else opens the zombie's transactional id (as a new owner does first thing): the zombie's
      // next commit is refused, so it stops instead of writing a second copy of anything.
      const usurper = await log.producer({ transactionalId: transactionalIdFor(config.groupId, config.topics.orders, zombiePartition) });
      await usurper.close();
      await produce(log, config, batches.slice(500));
      await assert.rejects(zombie.stopped, (err: unknown) => err instanceof TransportError && err.code === 'PRODUCER_FENCED');
      const survivor = await start(log, config, 'survivor');
      try {
        assert.deepEqual(survivor.service.ownedPartitions(), [0, 1, 2, 3]);
        await waitForCommitted(log, config, 20_000, [survivor.stopped]);
        assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));
      } finally {
        await survivor.close();
      }
    } finally {
      await zombie.close();
      await log.close();
    }
  });
});

function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function committedTotal(log: EmbeddedTransport, config: MatchingEngineConfig): Promise<number> {
  let n = 0;
  for (const v of (await log.committedOffsets(config.groupId, config.topics.orders)).values()) n += v;
  return n;
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
