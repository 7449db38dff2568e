// Retention deleting replay input on a real Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092): the
// records an engine's restore must replay (from its snapshots to the committed offset) are deleted with
// DeleteRecords, as retention would. A restarted engine must refuse the partition loudly (log, metric, exit)
// instead of rebuilding its books from the part of the log that is left.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { topicSpecs } from '@parallax/contracts';
import { syntheticOrderFlow } from '@parallax/matching';
import { createKafkaTransport, kafkaJsSecurity, type Transport } from '@parallax/transport';
import { loadMatchingEngineConfig } from './config/matching-engine.config.js';
import { engineEnv, kafkaBrokers, kill9, logsWith, spawnEngine, stopGracefully, type EngineProcess } from './testing/engine-process.js';
import { produce, waitForCommitted } from './testing/test-support.js';

describe('matching engine on Kafka: replay input deleted by retention', { timeout: 180_000 }, () => {
  let transport: Transport;
  const engines: EngineProcess[] = [];

  before(() => {
    transport = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: 'engine-restore-guard-tests' });
  });
  after(async () => {
    await Promise.all(engines.map(kill9));
    await transport.close();
  });

  it('a restarted engine refuses a partition whose replay input is gone and exits, naming the reason', { timeout: 150_000 }, async () => {
    const run = `engine-it-retention-${Date.now()}`;
    // Snapshots every 1,000 messages: none is taken, so a restore replays from offset 0.
    const env = engineEnv(run, { SNAPSHOT_EVERY_MESSAGES: '1000' });
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    const batches = syntheticOrderFlow({ seed: 51, marketIds: config.catalogue.all().map((d) => d.marketId), batches: 300, maxCommandsPerBatch: 8 });
    await produce(transport, config, batches);
    const first = await spawnEngine('first', env);
    engines.push(first);
    await waitForCommitted(transport, config, 60_000, [first.exited.then(() => Promise.reject(new Error('engine exited')))]);
    assert.equal(await stopGracefully(first), 0);

    // Retention deletes the first half of partition 0's input: below the committed offset, above the replay start.
    const committed = (await transport.committedOffsets(config.groupId, config.topics.orders)).get(0)!;
    const cut = Math.floor(committed / 2);
    const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: `${run}-admin`, logLevel: logLevel.NOTHING, ...kafkaJsSecurity() });
    const admin = kafka.admin();
    await admin.connect();
    try {
      // kafkajs deletes records only for topics whose metadata its admin has loaded.
      await admin.fetchTopicMetadata({ topics: [config.topics.orders] });
      await admin.deleteTopicRecords({ topic: config.topics.orders, partitions: [{ partition: 0, offset: String(cut) }] });
    } finally {
      await admin.disconnect();
    }
    assert.equal((await transport.startOffsets(config.topics.orders)).get(0), cut);

    // The refusal may come before or after the engine's ready line: either way it must exit non-zero and say why.
    let refusal: Record<string, unknown> | undefined;
    try {
      const second = await spawnEngine('second', env);
      engines.push(second);
      assert.notEqual(await second.exited, 0, 'the engine stops instead of serving partial state');
      refusal = logsWith(second, 'partition restore refused: its state would be partial')[0]?.entry;
    } catch (err) {
      // Exited before its ready line: the error carries its last log lines.
      const line = String(err).split('\n').find((l) => l.includes('partition restore refused'));
      assert.ok(line !== undefined, String(err));
      refusal = JSON.parse(line) as Record<string, unknown>;
    }
    assert.ok(refusal, 'the refusal is logged');
    assert.equal(refusal['reason'], 'REPLAY_INPUT_DELETED');
    assert.equal(refusal['partition'], 0);
    // Nothing was committed past the refusal.
    assert.equal((await transport.committedOffsets(config.groupId, config.topics.orders)).get(0), committed);
  });
});
