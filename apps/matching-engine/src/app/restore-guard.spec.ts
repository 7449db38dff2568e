// A restore that cannot be exact must fail loudly instead of rebuilding a partition from part of its history
// (embedded log, no services): an unreadable latest snapshot record, and input that retention deleted below
// the replay start. The refusal stops the engine with a MatchingError and counts it in the metrics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marketKey, partitionForMarket } from '@parallax/contracts';
import { MatchingError, syntheticOrderFlow } from '@parallax/matching';
import { createLogger } from '@parallax/observability';
import { createEmbeddedTransport, type ConsumedMessage, type EmbeddedTransport } from '@parallax/transport';
import { startMatchingEngine } from './bootstrap.js';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { assertSameStreams, produce, readStreams, referenceStreams, sendRaw, testConfig, waitForCommitted } from '../testing/test-support.js';

const logger = createLogger('matching-engine', 'silent');

const refused = (code: string) => (err: unknown) => err instanceof MatchingError && err.code === code;

/** Starts an engine and resolves with how it ended (the consumer stopping) and its metrics at that point. */
async function startAndFail(log: EmbeddedTransport, config: MatchingEngineConfig): Promise<{ err: unknown; metrics: string }> {
  const e = await startMatchingEngine({ ...config, instanceId: 'restarted' }, log.client(), { logger });
  try {
    await e.stopped;
    return { err: new Error('the engine stopped cleanly'), metrics: '' };
  } catch (err) {
    return { err, metrics: await (await fetch(`${e.url}/metrics`)).text() };
  } finally {
    await e.close();
  }
}

/** parallax_engine_restore_failures_total for one reason, summed over partitions. */
function restoreFailures(metrics: string, reason: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('parallax_engine_restore_failures_total{') && l.includes(`reason="${reason}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function readAll(log: EmbeddedTransport, topic: string, partition: number): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const chunk of log.read(topic, partition, 0)) out.push(...chunk);
  return out;
}

describe('matching engine restore guard (embedded log)', () => {
  it('refuses a partition whose latest snapshot record of a market is unreadable, and restores once a readable one supersedes it', { timeout: 60_000 }, async () => {
    const log = createEmbeddedTransport();
    const config = testConfig({ snapshotEveryMessages: 20, maxBatchMessages: 5 });
    const batches = syntheticOrderFlow({ seed: 7, marketIds: config.catalogue.all().map((d) => d.marketId), batches: 400, maxCommandsPerBatch: 8 });
    const first = await startMatchingEngine({ ...config, instanceId: 'first' }, log.client(), { logger });
    await produce(log, config, batches);
    await waitForCommitted(log, config, 20_000, [first.stopped]);
    await first.close();

    const market = 3;
    const p = partitionForMarket(market, config.partitions);
    const good = (await readAll(log, config.topics.snapshots, p)).filter((m) => m.key === marketKey(market)).at(-1);
    assert.ok(good, 'market 3 has a snapshot');
    // The market's newest record is garbage (a bad write, disk corruption): its state is unknown.
    await sendRaw(log, config.topics.snapshots, [{ key: marketKey(market), partition: p, value: Uint8Array.from([0x50, 3, 1, 0xff]) }]);
    const { err, metrics } = await startAndFail(log, config);
    assert.ok(refused('UNREADABLE_SNAPSHOT')(err), `refused: ${String(err)}`);
    assert.equal(restoreFailures(metrics, 'UNREADABLE_SNAPSHOT'), 1);

    // A later readable record of the same key supersedes the garbage: the restore is exact again.
    await sendRaw(log, config.topics.snapshots, [{ key: marketKey(market), partition: p, value: good.value }]);
    const again = await startMatchingEngine({ ...config, instanceId: 'again' }, log.client(), { logger });
    try {
      assert.deepEqual(again.service.ownedPartitions(), [0, 1, 2, 3]);
      assertSameStreams(await readStreams(log, config), await referenceStreams(log, config, batches));
    } finally {
      await again.close();
      await log.close();
    }
  });

  it('refuses a partition whose replay input retention deleted (the log trimmed below the oldest snapshot)', { timeout: 60_000 }, async () => {
    // 'consumed' retention WITHOUT the snapshot hold that `npm start` registers: the orders log is trimmed to
    // the group's commit, below which the snapshots' replay would have to start.
    const log = createEmbeddedTransport({ retention: 'consumed' });
    const config = testConfig({ snapshotEveryMessages: 20, maxBatchMessages: 7 });
    const batches = syntheticOrderFlow({ seed: 8, marketIds: config.catalogue.all().map((d) => d.marketId), batches: 450, maxCommandsPerBatch: 8 });
    const first = await startMatchingEngine({ ...config, instanceId: 'first' }, log.client(), { logger });
    await produce(log, config, batches);
    await waitForCommitted(log, config, 20_000, [first.stopped]);
    await first.close();
    const starts = await log.startOffsets(config.topics.orders);
    assert.ok([...starts.values()].some((s) => s > 0), 'the orders log was trimmed');

    const { err, metrics } = await startAndFail(log, config);
    assert.ok(refused('REPLAY_INPUT_DELETED')(err), `refused: ${String(err)}`);
    assert.equal(restoreFailures(metrics, 'REPLAY_INPUT_DELETED'), 1);
    assert.match(String(err), /retention deleted the input/);
    await log.close();
  });
});
