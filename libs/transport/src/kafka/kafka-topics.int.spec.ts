// Topic creation on a real broker (KAFKA_BROKERS, default 127.0.0.1:19092): the retention a spec asks for is
// what Kafka applies, so the matching engine's replay input outlives its snapshots by configuration, not by
// whatever the broker's default happens to be.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { uniqueName } from '../contract/helpers.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';
import { kafkaJsSecurity } from './kafka-security.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
// A runtime enum kafkajs (CommonJS) exposes only on its default export under ESM.
const { ConfigResourceTypes } = kafkajs;

describe('Kafka transport: topic retention', () => {
  let t: KafkaTransport;
  const kafka = new Kafka({ brokers, clientId: 'transport-topics-raw', logLevel: logLevel.NOTHING, ...kafkaJsSecurity() });
  const admin = kafka.admin();
  before(async () => {
    t = createKafkaTransport({ brokers, clientId: 'transport-topics' });
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
    await t.close();
  });

  async function config(topic: string): Promise<Map<string, string | null>> {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'retention.bytes', 'cleanup.policy'] }],
    });
    return new Map(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  }

  it('creates a topic with the time-only retention its spec asks for', async () => {
    const kept = uniqueName('kept');
    const plain = uniqueName('plain');
    await t.ensureTopics([{ name: kept, partitions: 1, retentionMs: 123_456_789 }, { name: plain, partitions: 1 }]);
    const k = await config(kept);
    assert.equal(k.get('retention.ms'), '123456789');
    assert.equal(k.get('retention.bytes'), '-1');
    assert.equal(k.get('cleanup.policy'), 'delete');
    // Without retentionMs the broker's default applies (the test broker: 168 h).
    assert.equal((await config(plain)).get('retention.ms'), String(168 * 3_600_000));
    await assert.rejects(t.ensureTopics([{ name: uniqueName('bad'), partitions: 1, retentionMs: 0 }]), RangeError);
  });

  it('two clients creating the same fresh topics at once both succeed (npm start on Kafka: two engines on a new namespace)', async () => {
    // The loser's create fails with "already exists" and does not wait for leaders; it must still see the topic.
    const others = [0, 1, 2].map((i) => createKafkaTransport({ brokers, clientId: `transport-topics-race-${i}` }));
    try {
      for (let round = 0; round < 3; round++) {
        const specs = [0, 1, 2, 3].map((i) => ({ name: uniqueName(`race-${round}-${i}`), partitions: 6 }));
        await Promise.all([t, ...others].map((c) => c.ensureTopics(specs)));
        for (const c of [t, ...others]) for (const s of specs) assert.equal(await c.partitionCount(s.name), 6);
      }
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
  });
});
