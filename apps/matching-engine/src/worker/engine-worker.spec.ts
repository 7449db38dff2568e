// Single-machine mode: engines in worker threads on the embedded log of the main thread. Terminating a
// worker is the embedded equivalent of kill -9: no close, no revoke, its port just disappears.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syntheticOrderFlow } from '@parallax/matching';
import { createEmbeddedTransport } from '@parallax/transport';
import { startEngineWorker } from './engine-worker.js';
import { loadMatchingEngineConfig } from '../config/matching-engine.config.js';
import { assertSameStreams, produce, readStreams, referenceStreams, sleep, waitForCommitted } from '../testing/test-support.js';

const env = {
  ENGINE_GROUP_ID: 'worker-engines',
  TOPIC_ORDERS: 'w.orders',
  TOPIC_MARKET_EVENTS: 'w.market-events',
  TOPIC_SNAPSHOTS: 'w.snapshots',
  TOPIC_DEAD_LETTERS: 'w.dead-letters',
  PARTITIONS: '4',
  MARKETS: '8',
  SNAPSHOT_EVERY_MESSAGES: '29',
  MAX_BATCH_MESSAGES: '7',
  ENGINE_HTTP_PORT: '0',
  LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent',
};

describe('matching engines in worker threads', () => {
  it('a worker killed mid-stream loses nothing and duplicates nothing: the other restores its partitions', async () => {
    const log = createEmbeddedTransport();
    const config = loadMatchingEngineConfig(env);
    const batches = syntheticOrderFlow({ seed: 11, marketIds: config.catalogue.all().map((d) => d.marketId), batches: 2400, maxCommandsPerBatch: 10 });
    const a = await startEngineWorker(log, { ...env, ENGINE_INSTANCE_ID: 'a' });
    const b = await startEngineWorker(log, { ...env, ENGINE_INSTANCE_ID: 'b' });
    try {
      assert.equal((await fetch(`${a.url}/health`)).status, 200);
      const producing = produce(log, config, batches, 20);
      // Kill a once it has committed some input, while the rest is still arriving.
      for (let t = 0; ; t++) {
        const committed = [...(await log.committedOffsets(config.groupId, config.topics.orders)).values()].reduce((x, y) => x + y, 0);
        if (committed > 300) break;
        if (t > 4000) throw new Error('engines made no progress');
        await sleep(5);
      }
      await a.worker.terminate();
      await producing;
      await waitForCommitted(log, config, 30_000, [b.exited]);
      assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      assert.match(metrics, /parallax_engine_rebalances_total\{service="matching-engine"\} [2-9]/);
    } finally {
      await a.worker.terminate();
      await b.stop();
      await log.close();
    }
  });
});
