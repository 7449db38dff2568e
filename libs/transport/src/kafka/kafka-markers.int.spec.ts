// Kafka-only behaviour the shared contract cannot provoke through the Transport API (its transactions are
// buffered and only reach Kafka at commit): aborted records and transaction markers that occupy offsets,
// and transactions left open. Written with a raw kafkajs producer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, Partitioners, type Producer as KafkaJsProducer } from 'kafkajs';
import { dec, eventually, readAll, uniqueName } from '../contract/helpers.js';
import type { ConsumedBatch } from '../transport.js';
import { kafkaJsSecurity } from './kafka-security.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

describe('Kafka transport: aborted records, transaction markers, open transactions', () => {
  let t: KafkaTransport;
  let raw: KafkaJsProducer;
  before(async () => {
    t = createKafkaTransport({ brokers, clientId: 'transport-markers', consumer: { heartbeatIntervalMs: 200, maxWaitTimeMs: 100 } });
    const kafka = new Kafka({ brokers, clientId: 'transport-markers-raw', logLevel: logLevel.NOTHING, ...kafkaJsSecurity() });
    raw = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      transactionalId: uniqueName('raw-tx'),
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await raw.connect();
  });
  after(async () => {
    await raw.disconnect();
    await t.close();
  });

  it('skips aborted records and markers, and a read ending on a marker terminates', async () => {
    const topic = uniqueName('markers');
    await t.ensureTopics([{ name: topic, partitions: 1 }]);
    const inTx = async (values: string[], commit: boolean) => {
      const tx = await raw.transaction();
      await tx.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
      await (commit ? tx.commit() : tx.abort());
    };
    // Offsets: a=0, commit marker=1, b1=2, b2=3, abort marker=4, c=5, d=6, abort marker=7. Markers are
    // written after the commit/abort returns, so wait for each (the stable offset passes it) to pin offsets.
    const stableAt = (offset: number) =>
      eventually(async () => (await t.endOffsets(topic)).get(0) === offset, 10_000, `the stable offset to reach ${offset}`);
    await inTx(['a'], true);
    await stableAt(2);
    await inTx(['b1', 'b2'], false);
    await stableAt(5);
    await raw.send({ topic, messages: [{ value: 'c', partition: 0 }] });
    await inTx(['d'], false);
    await stableAt(8);

    const read = async (from: number, to?: number) => (await readAll(t, topic, 0, from, to)).map((m) => `${dec(m.value)}@${m.offset}`);
    assert.deepEqual(await read(0), ['a@0', 'c@5']);
    assert.deepEqual(await read(6), [], 'a range of only an aborted record and its marker');
    assert.deepEqual(await read(1, 5), [], 'a range of markers and aborted records');
    assert.deepEqual(await read(1, 6), ['c@5']);
    assert.deepEqual(await read(0, 1), ['a@0']);

    // A group consumer sees the same two messages, and its position passes the trailing markers.
    const batches: ConsumedBatch[] = [];
    const c = await t.consumer({ groupId: uniqueName('markers-g'), topics: [topic] });
    await c.run({ eachBatch: (b) => (batches.push(b), Promise.resolve()) });
    await eventually(() => batches.flatMap((b) => b.messages).length >= 2, 10_000, 'two messages');
    await inTx(['e'], true);
    await eventually(() => batches.flatMap((b) => b.messages).length >= 3, 10_000, 'the message after the markers');
    assert.deepEqual(batches.flatMap((b) => b.messages.map((m) => `${dec(m.value)}@${m.offset}`)), ['a@0', 'c@5', 'e@8']);
    await c.close();
  });

  it('ends reads and end offsets at the last stable offset while a transaction is open', async () => {
    const topic = uniqueName('open-tx');
    await t.ensureTopics([{ name: topic, partitions: 1 }]);
    await raw.send({ topic, messages: [{ value: 'before', partition: 0 }] });
    const open = await raw.transaction();
    await open.send({ topic, messages: [{ value: 'pending', partition: 0 }] });
    await raw.send({ topic, messages: [{ value: 'after', partition: 0 }] }).catch(() => undefined);
    assert.equal((await t.endOffsets(topic)).get(0), 1, 'the open transaction holds the stable offset back');
    const started = Date.now();
    assert.deepEqual((await readAll(t, topic, 0)).map((m) => dec(m.value)), ['before']);
    assert.deepEqual((await readAll(t, topic, 0, 0, 1000)).map((m) => dec(m.value)), ['before'], '`to` is clamped');
    assert.ok(Date.now() - started < 10_000);
    await open.commit();
    await eventually(async () => (await readAll(t, topic, 0)).length === 3, 10_000, 'the commit');
    assert.deepEqual((await readAll(t, topic, 0)).map((m) => dec(m.value)), ['before', 'pending', 'after']);
  });
});
