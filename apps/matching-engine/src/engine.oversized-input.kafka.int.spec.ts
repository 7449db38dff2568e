// A valid ~470 KB command batch whose events (~2.2 MB) exceed the 1 MiB message limit, on a real Kafka broker
// (KAFKA_BROKERS, default 127.0.0.1:19092; `bash scripts/kafka.sh start`), one engine as a child process. The
// engine used to throw after the book had changed and crash-loop the partition; it must now commit the
// input's events as consecutive parts, keep matching what follows, and pass the exactly-once audit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeEventBatch, MAX_MESSAGE_BYTES, partitionForMarket, topicSpecs, type CommandBatch } from '@parallax/contracts';
import { crossingFlood, syntheticOrderFlow } from '@parallax/matching';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { loadMatchingEngineConfig } from './config/matching-engine.config.js';
import { engineEnv, kafkaBrokers, kill9, spawnEngine, stopGracefully, type EngineProcess } from './testing/engine-process.js';
import { assertExactlyOnceEventually, readPartitions } from './testing/exactly-once.js';
import { produce, waitForCommitted } from './testing/test-support.js';

describe('matching engine on Kafka: an input whose events exceed one message', { timeout: 180_000 }, () => {
  let transport: Transport;
  const engines: EngineProcess[] = [];

  before(() => {
    transport = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: 'engine-oversized-tests' });
  });
  after(async () => {
    await Promise.all(engines.map(kill9));
    await transport.close();
  });

  it('commits a 470 KB batch as consecutive event batches and keeps the partition flowing', { timeout: 150_000 }, async () => {
    const run = `engine-it-oversized-${Date.now()}`;
    const env = engineEnv(run);
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    const marketIds = config.catalogue.all().map((d) => d.marketId);
    const all = syntheticOrderFlow({ seed: 41, marketIds, batches: 500, maxCommandsPerBatch: 10 });
    const early = all.slice(0, 300);
    const market = 3;
    const lastTs = Math.max(...early.filter((b) => b.marketId === market).flatMap((b) => b.commands.map((c) => c.ts)));
    const flood = crossingFlood({ marketId: market, firstTs: lastTs + 1 });
    // After the flood: more input of the same market (small floods with later times) and of the others.
    const late: CommandBatch[] = [
      ...[1, 2, 3].map((k) => crossingFlood({ marketId: market, commands: 20, firstTs: lastTs + 50_000 + 100 * k, firstOrderId: 3_000_000 + 100 * k })),
      ...all.slice(300).filter((b) => b.marketId !== market),
    ];
    const good = [...early, flood, ...late];
    await produce(transport, config, good, 50);

    const engine = await spawnEngine('solo', env);
    engines.push(engine);
    const died = engine.exited.then((code) => {
      throw new Error(`engine exited (${code})`);
    });
    await waitForCommitted(transport, config, 120_000, [died]);
    const report = await assertExactlyOnceEventually(transport, config, good);
    assert.equal(report.goodMessages, good.length);

    // The flood's events are on the topic as several messages of the same input offset, each within the limit.
    const p = partitionForMarket(market, config.partitions);
    const events = (await readPartitions(transport, config.topics.marketEvents, config.partitions))[p]!;
    const batches = events.map((m) => ({ size: m.value.length, b: decodeEventBatch(m.value) }));
    const floodOffsets = new Map<number, number>();
    for (const { b } of batches) if (b.marketId === market) floodOffsets.set(b.inputOffset, (floodOffsets.get(b.inputOffset) ?? 0) + 1);
    const parts = Math.max(...floodOffsets.values());
    assert.ok(parts >= 3, `the flood's events came out in ${parts} parts`);
    assert.ok(batches.every(({ size }) => size <= MAX_MESSAGE_BYTES));
    console.log(`[kafka oversized] a ${flood.commands.length}-command batch committed as ${parts} event batches; ${report.eventBatches} inputs audited`);
    assert.equal(await stopGracefully(engine), 0);
  });
});
