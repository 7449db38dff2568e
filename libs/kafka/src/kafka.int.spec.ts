// Against the real broker (KAFKA_BROKERS, default 127.0.0.1:19092; `bash scripts/kafka.sh start`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { Admin, Kafka } from 'kafkajs';
import { createTransactionalProducer } from './client.js';
import { KafkaPlumbingError } from './errors.js';
import { closeAll, connectAdmin, testKafka } from './spec-support.js';
import { readTopic, uniqueName } from './testing.js';
import { ensureTopics } from './topics.js';

const { ConfigResourceTypes } = kafkajs;
const TEST_TIMEOUT = 60_000;

describe('Kafka broker: topics, ordering, transactions', { timeout: 180_000 }, () => {
  let kafka: Kafka;
  let admin: Admin;
  const topics: string[] = [];
  const topic = (prefix: string): string => {
    const name = uniqueName(prefix);
    topics.push(name);
    return name;
  };

  before(async () => {
    kafka = testKafka();
    admin = await connectAdmin(kafka);
  });

  after(async () => {
    await closeAll(
      () => (topics.length > 0 ? admin.deleteTopics({ topics }) : Promise.resolve()),
      () => admin.disconnect(),
    );
  });

  it('ensureTopics creates once, is idempotent, and refuses a mismatching existing topic', { timeout: TEST_TIMEOUT }, async () => {
    const events = topic('it-events');
    const snapshots = topic('it-snapshots');
    const specs = [
      { name: events, partitions: 3 },
      { name: snapshots, partitions: 2, config: { 'cleanup.policy': 'compact' } },
    ];

    assert.deepEqual(await ensureTopics(admin, specs), { created: [events, snapshots], existing: [] });
    assert.deepEqual(await ensureTopics(admin, specs), { created: [], existing: [events, snapshots] });

    const metadata = await admin.fetchTopicMetadata({ topics: [events, snapshots] });
    const partitions = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    assert.equal(partitions.get(events), 3);
    assert.equal(partitions.get(snapshots), 2);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: snapshots, configNames: ['cleanup.policy'] }],
    });
    assert.equal(configs.resources[0]?.configEntries[0]?.configValue, 'compact');

    await assert.rejects(
      ensureTopics(admin, [{ name: events, partitions: 4 }]),
      (error: unknown) => error instanceof KafkaPlumbingError && error.code === 'TOPIC_PARTITIONS_MISMATCH',
    );
    await assert.rejects(
      ensureTopics(admin, [{ name: snapshots, partitions: 2, config: { 'cleanup.policy': 'delete' } }]),
      (error: unknown) => error instanceof KafkaPlumbingError && error.code === 'TOPIC_CONFIG_MISMATCH',
    );
  });

  it('auto topic creation is off: producing to an unknown topic fails instead of creating it', { timeout: TEST_TIMEOUT }, async () => {
    const ghost = uniqueName('it-ghost');
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1, initialRetryTime: 100 } });
    try {
      await producer.connect();
      await assert.rejects(producer.send({ topic: ghost, messages: [{ value: 'x' }] }));
      assert.ok(!(await admin.listTopics()).includes(ghost));
    } finally {
      await closeAll(() => producer.disconnect());
    }
  });

  it('a produced batch comes back in order per partition, each key on one consistent partition', { timeout: TEST_TIMEOUT }, async () => {
    const name = topic('it-order');
    await ensureTopics(admin, [{ name, partitions: 3 }]);
    const keys = Array.from({ length: 8 }, (_, i) => `market-${i}`);
    const perKey = 25;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await producer.connect();
      // Interleaved keys in one request: ordering must hold per key although partitions are shared.
      const first = Array.from({ length: perKey }, (_, seq) => keys.map((key) => ({ key, value: `${key}:${seq}` }))).flat();
      await producer.sendBatch({ topicMessages: [{ topic: name, messages: first }] });
      // A second, separate send: the same keys must land on the same partitions again.
      await producer.send({ topic: name, messages: keys.map((key) => ({ key, value: `${key}:${perKey}` })) });
    } finally {
      await closeAll(() => producer.disconnect());
    }

    const total = keys.length * (perKey + 1);
    const records = await readTopic(kafka, name, { until: (r) => r.length >= total });
    assert.equal(records.length, total, 'every message exactly once');

    const partitionOfKey = new Map<string, number>();
    const lastSeqOfKey = new Map<string, number>();
    const lastOffsetOfPartition = new Map<number, bigint>();
    for (const record of records) {
      const key = record.key!;
      const [valueKey, seqText] = record.value!.split(':');
      assert.equal(valueKey, key);
      const seq = Number(seqText);
      const partition = partitionOfKey.get(key) ?? record.partition;
      partitionOfKey.set(key, partition);
      assert.equal(record.partition, partition, `${key} moved from partition ${partition} to ${record.partition}`);
      assert.equal(seq, (lastSeqOfKey.get(key) ?? -1) + 1, `${key}: seq ${seq} out of order`);
      lastSeqOfKey.set(key, seq);
      const offset = BigInt(record.offset);
      assert.ok(offset > (lastOffsetOfPartition.get(record.partition) ?? -1n), 'offsets grow within a partition');
      lastOffsetOfPartition.set(record.partition, offset);
    }
    assert.equal(partitionOfKey.size, keys.length);
    for (const key of keys) assert.equal(lastSeqOfKey.get(key), perKey);
    assert.ok(new Set(partitionOfKey.values()).size > 1, 'keys spread over more than one partition');
  });

  it('a committed transaction is visible to read_committed readers, an aborted one is not', { timeout: TEST_TIMEOUT }, async () => {
    const name = topic('it-txn');
    await ensureTopics(admin, [{ name, partitions: 1 }]);
    const producer = createTransactionalProducer(kafka, uniqueName('it-txn'));
    try {
      await producer.connect();
      const send = async (label: string, commit: boolean): Promise<void> => {
        const txn = await producer.transaction();
        await txn.send({ topic: name, messages: [0, 1, 2].map((i) => ({ key: 'k', value: `${label}-${i}` })) });
        if (commit) await txn.commit();
        else await txn.abort();
      };
      await send('committed', true);
      await send('aborted', false);
      // A committed sentinel after the aborted records: a reader that has seen it has read past them.
      await send('after', true);
    } finally {
      await closeAll(() => producer.disconnect());
    }
    const sawSentinel = (records: readonly { value: string | null }[]): boolean => records.some((r) => r.value === 'after-2');

    const committed = await readTopic(kafka, name, { until: sawSentinel });
    assert.deepEqual(
      committed.map((r) => r.value),
      ['committed-0', 'committed-1', 'committed-2', 'after-0', 'after-1', 'after-2'],
    );
    // The aborted records really are in the log: only the isolation level hides them.
    const everything = await readTopic(kafka, name, { until: sawSentinel, isolation: 'read_uncommitted' });
    assert.deepEqual(
      everything.map((r) => r.value),
      ['committed-0', 'committed-1', 'committed-2', 'aborted-0', 'aborted-1', 'aborted-2', 'after-0', 'after-1', 'after-2'],
    );
  });
});
