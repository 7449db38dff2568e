// Throughput and recovery figures of the engine on the embedded log:
//   node apps/matching-engine/dist/bench/pipeline.bench.js [batches=20000] [maxCommandsPerBatch=40]
// 1. one in-process engine drains a pre-filled orders topic (matching + one transaction per input batch);
// 2. two engines in worker threads drain the same input (a second group);
// 3. restores: from a snapshot at the end (no replay) and from nothing (full silent replay).
import { performance } from 'node:perf_hooks';
import { syntheticOrderFlow } from '@parallax/matching';
import { createLogger } from '@parallax/observability';
import { createEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';
import { startMatchingEngine } from '../app/bootstrap.js';
import { startEngineWorker } from '../worker/engine-worker.js';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { produce, testConfig, waitForCommitted } from '../testing/test-support.js';

const batchesArg = Number(process.argv[2] ?? 20_000);
const maxCommands = Number(process.argv[3] ?? 40);
const logger = createLogger('matching-engine', 'silent');

const base = testConfig({ partitions: 4, maxBatchMessages: 500, snapshotEveryMessages: 1e9, snapshotEveryMs: 1e9 });
const flow = syntheticOrderFlow({
  seed: 42,
  marketIds: base.catalogue.all().map((d) => d.marketId),
  batches: batchesArg,
  maxCommandsPerBatch: maxCommands,
});
const commands = flow.reduce((n, b) => n + b.commands.length, 0);
const log = createEmbeddedTransport();
await log.ensureTopics([{ name: base.topics.orders, partitions: base.partitions }]);
await produce(log, base, flow, 1000);
console.log(`input: ${flow.length} command batches, ${commands} commands, ${base.partitions} partitions, 8 markets`);

async function events(l: EmbeddedTransport, c: MatchingEngineConfig): Promise<number> {
  let n = 0;
  for (const v of (await l.endOffsets(c.topics.marketEvents)).values()) n += v;
  return n;
}

function report(name: string, seconds: number): void {
  console.log(
    `${name}: ${seconds.toFixed(2)} s, ${Math.round(commands / seconds).toLocaleString('en')} commands/s, ` +
      `${Math.round(flow.length / seconds).toLocaleString('en')} input messages/s`,
  );
}

// 1. One in-process engine.
{
  const config = { ...base, groupId: 'bench-inproc', snapshotEveryMessages: 1e9 };
  const t0 = performance.now();
  const engine = await startMatchingEngine(config, log.client(), { logger });
  await waitForCommitted(log, config, 600_000, [engine.stopped]);
  const seconds = (performance.now() - t0) / 1000;
  report('1 engine, in-process (including app boot)', seconds);
  console.log(`  event batch records (+ transaction markers): ${await events(log, config)}`);
  await engine.close();
}

// 2. Two engines in worker threads (the main thread hosts the log).
{
  const env = {
    ENGINE_GROUP_ID: 'bench-workers',
    TOPIC_ORDERS: base.topics.orders,
    TOPIC_MARKET_EVENTS: 'bench.w.events',
    TOPIC_SNAPSHOTS: 'bench.w.snapshots',
    TOPIC_DEAD_LETTERS: 'bench.w.dead',
    PARTITIONS: String(base.partitions),
    MARKETS: '8',
    MAX_BATCH_MESSAGES: '500',
    SNAPSHOT_EVERY_MESSAGES: '1000000000',
    ENGINE_HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
  };
  const config = { ...base, groupId: env.ENGINE_GROUP_ID };
  const t0 = performance.now();
  const workers = await Promise.all([startEngineWorker(log, env), startEngineWorker(log, env)]);
  const booted = performance.now();
  const before = [...(await log.committedOffsets(config.groupId, config.topics.orders)).values()].reduce((a, b) => a + b, 0);
  await waitForCommitted(log, config, 600_000, workers.map((w) => w.exited));
  const end = performance.now();
  report('2 engines, worker threads (including thread + app boot)', (end - t0) / 1000);
  console.log(`  boot ${((booted - t0) / 1000).toFixed(2)} s (${before} messages already committed by then)`);
  await Promise.all(workers.map((w) => w.stop()));
}

// 3. Restores.
{
  const config = { ...base, groupId: 'bench-restore', topics: { ...base.topics, marketEvents: 'bench.r.events', snapshots: 'bench.r.snapshots' } };
  // Snapshot at the end: every batch snapshots (a 1-message threshold), so the last one covers everything.
  const first = await startMatchingEngine({ ...config, snapshotEveryMessages: 1 }, log.client(), { logger });
  await waitForCommitted(log, config, 600_000, [first.stopped]);
  await first.close();
  const fromSnapshot = await startMatchingEngine(config, log.client(), { logger });
  const r1 = fromSnapshot.service.restoreReports();
  await fromSnapshot.close();
  const markets = r1.reduce((n, r) => n + r.snapshots, 0);
  console.log(
    `restore from snapshots at the end: ${r1.map((r) => `p${r.partition} ${(r.seconds * 1000).toFixed(0)} ms`).join(', ')} ` +
      `(${markets} market snapshots, replayed ${r1.reduce((n, r) => n + r.replayed, 0)} messages)`,
  );

  const noSnap = { ...config, groupId: 'bench-replay', topics: { ...config.topics, marketEvents: 'bench.p.events', snapshots: 'bench.p.snapshots' } };
  const full = await startMatchingEngine(noSnap, log.client(), { logger });
  await waitForCommitted(log, noSnap, 600_000, [full.stopped]);
  await full.close();
  const replay = await startMatchingEngine(noSnap, log.client(), { logger });
  const r2 = replay.service.restoreReports();
  await replay.close();
  const replayed = r2.reduce((n, r) => n + r.replayed, 0);
  const seconds = r2.reduce((n, r) => n + r.seconds, 0);
  console.log(
    `restore by full silent replay: ${r2.map((r) => `p${r.partition} ${(r.seconds * 1000).toFixed(0)} ms`).join(', ')} ` +
      `(${replayed} messages, ${Math.round(commands / seconds).toLocaleString('en')} commands/s replayed)`,
  );
}
await log.close();
