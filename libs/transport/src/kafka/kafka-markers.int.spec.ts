// Kafka-only behaviour the shared contract cannot provoke through the Transport API (its transactions are
// buffered and only reach Kafka at commit): aborted records and transaction markers that occupy offsets,
// and transactions left open. Written with a raw kafkajs producer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, Partitioners, type Producer as KafkaJsProducer, type ProducerRecord, type RecordMetadata } from 'kafkajs';
import { dec, eventually, readAll, uniqueName } from '../contract/helpers.js';
import type { ConsumedBatch, ConsumedMessage } from '../transport.js';
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

  // kafkajs 2.2.4 filtered aborted records wrongly (fixed by patches/kafkajs+2.2.4.patch): it opened one
  // aborted transaction per message, so a fetch that began after the first offsets of two aborted
  // transactions of different producers delivered one of them. Fetches begin wherever the previous one ended,
  // so both the range reader and group members delivered aborted records; seen as a journal entry whose
  // input range re-read as empty ("RangeError: an empty batch" when a risk shard's journal was re-run).
  it('delivers only committed records of interleaved transactions of two producers, from every offset and in fetches of one record batch', { timeout: 120_000 }, async () => {
    const topic = uniqueName('interleaved');
    await t.ensureTopics([{ name: topic, partitions: 1 }]);
    const kafka = new Kafka({ brokers, clientId: 'transport-markers-interleaved', logLevel: logLevel.NOTHING, ...kafkaJsSecurity() });
    const txProducer = async (name: string) => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: uniqueName(name), createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      return p;
    };
    const P = await txProducer('tx-p');
    const Q = await txProducer('tx-q');
    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await plain.connect();
    // Each send is one record batch; its offset comes back from the broker. Markers take the offsets between.
    const committed = new Map<number, string>();
    const send = async (s: { send(record: ProducerRecord): Promise<RecordMetadata[]> }, value: string): Promise<number> => {
      const [meta] = await s.send({ topic, messages: [{ value, partition: 0 }] });
      return Number(meta?.baseOffset);
    };
    const keep = (offset: number, value: string) => committed.set(offset, value);
    const stableAt = async (offset: number) => {
      let lso = 0;
      await eventually(async () => (lso = (await t.endOffsets(topic)).get(0) ?? 0) >= offset, 10_000, `the stable offset to reach ${offset}`);
      return lso;
    };
    try {
      // P aborts, Q commits, interleaved record by record, with a plain record inside both.
      let tp = await P.transaction();
      let tq = await Q.transaction();
      await send(tp, 'p1');
      const q1 = await send(tq, 'q1');
      await send(tp, 'p2');
      const q2 = await send(tq, 'q2');
      const r1 = await send(plain, 'r1');
      await tp.abort();
      await tq.commit();
      keep(q1, 'q1');
      keep(q2, 'q2');
      keep(r1, 'r1');
      await stableAt(r1 + 3);
      // Both abort, interleaved: a fetch from q3 on sees two aborted transactions begun before it.
      tp = await P.transaction();
      tq = await Q.transaction();
      await send(tp, 'p3');
      await send(tq, 'q3');
      await send(tp, 'p4');
      const q4 = await send(tq, 'q4');
      await tp.abort();
      await tq.abort();
      await stableAt(q4 + 3);
      keep(await send(plain, 'r2'), 'r2');
      // P commits inside an aborted transaction of Q.
      tq = await Q.transaction();
      await send(tq, 'q5');
      tp = await P.transaction();
      keep(await send(tp, 'p5'), 'p5');
      await tp.commit();
      const q6 = await send(tq, 'q6');
      await tq.abort();
      const end = await stableAt(q6 + 2);

      const expected = (from: number, to: number) =>
        [...committed].filter(([o]) => o >= from && o < to).sort(([a], [b]) => a - b).map(([o, v]) => `${v}@${o}`);
      const show = (ms: readonly ConsumedMessage[]) => ms.map((m) => `${dec(m.value)}@${m.offset}`);
      // One record batch a fetch: every batch boundary is where a fetch begins.
      const narrow = createKafkaTransport({ brokers, clientId: 'transport-markers-narrow', consumer: { heartbeatIntervalMs: 200, maxWaitTimeMs: 100, maxBytesPerPartition: 1 } });
      try {
        for (let from = 0; from < end; from++) {
          assert.deepEqual(show(await readAll(t, topic, 0, from)), expected(from, end), `read from ${from}`);
          assert.deepEqual(show(await readAll(narrow, topic, 0, from)), expected(from, end), `read from ${from}, one record batch a fetch`);
        }
        for (let to = 1; to < end; to++) assert.deepEqual(show(await readAll(t, topic, 0, 0, to)), expected(0, to), `read to ${to}`);

        // A group member fetching one record batch at a time delivers the same, once each.
        const seen: ConsumedMessage[] = [];
        const c = await narrow.consumer({ groupId: uniqueName('interleaved-g'), topics: [topic] });
        await c.run({ eachBatch: (b) => (seen.push(...b.messages), Promise.resolve()) });
        const last = Math.max(...committed.keys());
        await eventually(() => seen.some((m) => m.offset === last), 10_000, 'the group member to reach the last committed record');
        await c.close();
        assert.deepEqual(show(seen), expected(0, end));
      } finally {
        await narrow.close();
      }
    } finally {
      await Promise.all([P.disconnect(), Q.disconnect(), plain.disconnect()]);
    }
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
