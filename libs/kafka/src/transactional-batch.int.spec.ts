// Exactly-once consume-transform-produce against the real broker (`bash scripts/kafka.sh start`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { connectTransactionalProducer, createTransactionalProducer } from './client.js';
import { KafkaPlumbingError } from './errors.js';
import { closeAll, connectAdmin, eventually, readToEnd, testConsumer, testKafka } from './spec-support.js';
import { uniqueName } from './testing.js';
import { ensureTopics } from './topics.js';
import { runTransactionalBatches, type AbortEvent, type OutputMessage } from './transactional-batch.js';

const TEST_TIMEOUT = 90_000;

describe('transactional consume-transform-produce', { timeout: 300_000 }, () => {
  let kafka: Kafka;
  let admin: Admin;
  const topics: string[] = [];
  const clients: (Producer | Consumer)[] = [];

  const newTopics = async (partitions: number): Promise<{ input: string; output: string }> => {
    const input = uniqueName('ctp-in');
    const output = uniqueName('ctp-out');
    topics.push(input, output);
    await ensureTopics(admin, [
      { name: input, partitions },
      { name: output, partitions },
    ]);
    return { input, output };
  };
  const produce = async (topic: string, messages: { key: string; value: string }[]): Promise<void> => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await producer.connect();
      await producer.send({ topic, messages });
    } finally {
      await closeAll(() => producer.disconnect());
    }
  };
  const connected = async <T extends Producer | Consumer>(client: T): Promise<T> => {
    clients.push(client);
    await client.connect();
    return client;
  };
  const committedOffsets = async (groupId: string, topic: string): Promise<Map<number, string>> => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
  };

  before(async () => {
    kafka = testKafka();
    admin = await connectAdmin(kafka);
  });

  after(async () => {
    await closeAll(...clients.map((client) => () => client.disconnect()));
    await closeAll(
      () => (topics.length > 0 ? admin.deleteTopics({ topics }) : Promise.resolve()),
      () => admin.disconnect(),
    );
  });

  it('commits outputs with input offsets; a new member of the group resumes after them; no duplicates', { timeout: TEST_TIMEOUT }, async () => {
    const { input, output } = await newTopics(3);
    const groupId = uniqueName('ctp-group');
    const keys = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'ARB-USD', 'OP-USD'];
    const batchOf = (from: number, count: number): { key: string; value: string }[] =>
      Array.from({ length: count }, (_, i) => ({ key: keys[(from + i) % keys.length]!, value: `cmd-${from + i}` }));
    const transform = (messages: readonly KafkaMessage[]): OutputMessage[] =>
      messages.map((m) => ({ topic: output, key: m.key, value: `event(${m.value?.toString() ?? ''})` }));

    const producer = await connected(createTransactionalProducer(kafka, uniqueName('ctp-tx')));

    // Phase 1: the first member processes 30 commands.
    await produce(input, batchOf(0, 30));
    let done1 = 0;
    const first = await connected(testConsumer(kafka, groupId));
    await first.subscribe({ topics: [input], fromBeginning: true });
    await runTransactionalBatches(first, { groupId, producer, transform, onCommit: (e) => void (done1 += e.inputCount) });
    await eventually(() => done1 === 30, 'the first member to commit 30 inputs');
    await first.disconnect();

    const ends = new Map((await admin.fetchTopicOffsets(input)).map((p) => [p.partition, p.high]));
    assert.deepEqual(await committedOffsets(groupId, input), ends, 'committed offsets = end of every input partition');

    // Phase 2: more commands, a new member of the same group: it must see only the new ones.
    await produce(input, batchOf(30, 20));
    const seen: string[] = [];
    let done2 = 0;
    const second = await connected(testConsumer(kafka, groupId));
    await second.subscribe({ topics: [input], fromBeginning: true });
    await runTransactionalBatches(second, {
      groupId,
      producer,
      transform: (messages) => {
        seen.push(...messages.map((m) => m.value?.toString() ?? ''));
        return transform(messages);
      },
      onCommit: (e) => void (done2 += e.inputCount),
    });
    await eventually(() => done2 === 20, 'the second member to commit 20 inputs');
    await second.disconnect();
    assert.deepEqual(seen.sort(), batchOf(30, 20).map((m) => m.value).sort(), 'resumed exactly after the committed offsets');

    const events = await readToEnd(kafka, output, 3);
    const expected = batchOf(0, 50).map((m) => `event(${m.value})`);
    assert.deepEqual(events.map((e) => e.value).sort(), expected.sort(), 'every input transformed exactly once');
    // Keys of the outputs follow their inputs, so per-key order survives the hop.
    for (const key of keys) {
      const order = events.filter((e) => e.key === key).map((e) => Number(/cmd-(\d+)/.exec(e.value ?? '')?.[1]));
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `${key} outputs in input order`);
    }
  });

  it('a transform that throws mid-batch aborts the transaction; the retry commits each output once', { timeout: TEST_TIMEOUT }, async () => {
    const { input, output } = await newTopics(1);
    const groupId = uniqueName('ctp-group');
    const amounts = Array.from({ length: 20 }, (_, i) => i + 1);
    await produce(input, amounts.map((n) => ({ key: 'acct-1', value: String(n) })));

    // A stateful transform (a running balance), rolled back to the last committed state on abort.
    let balance = 0;
    let committedBalance = 0;
    let failed = false;
    const aborts: AbortEvent[] = [];
    let committed = 0;
    const producer = await connected(createTransactionalProducer(kafka, uniqueName('ctp-tx')));
    const consumer = await connected(testConsumer(kafka, groupId));
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    await runTransactionalBatches(consumer, {
      groupId,
      producer,
      chunkSize: 4,
      retryBackoffMs: 10,
      transform: (messages, info) =>
        messages.map((m) => {
          const amount = Number(m.value?.toString());
          // First attempt only, in the third chunk: the outputs of chunks 1-2 are already in the transaction.
          if (amount === 11 && !failed) {
            failed = true;
            throw new Error(`injected failure at offset ${m.offset} (attempt ${info.attempt})`);
          }
          balance += amount;
          return { topic: output, key: 'acct-1', value: `${m.offset}:${amount}:${balance}` };
        }),
      onAbort: (event) => {
        aborts.push(event);
        balance = committedBalance;
      },
      onCommit: (event) => {
        committedBalance = balance;
        committed += event.inputCount;
      },
    });
    await eventually(() => committed === amounts.length, 'all inputs committed');
    await consumer.disconnect();

    assert.equal(aborts.length, 1);
    assert.equal(aborts[0]!.willRetry, true);
    assert.match(String(aborts[0]!.error), /injected failure/);

    let running = 0;
    const expected = amounts.map((n, offset) => `${offset}:${n}:${(running += n)}`);
    const visible = await readToEnd(kafka, output, 1);
    assert.deepEqual(visible.map((r) => r.value), expected, 'exactly once, and the balance was rolled back before the retry');
    // The aborted attempt really wrote chunks 1-2 (8 outputs) before failing; read_committed hides them.
    const raw = await readToEnd(kafka, output, 1, 'read_uncommitted');
    assert.deepEqual(raw.map((r) => r.value), [...expected.slice(0, 8), ...expected]);
    assert.deepEqual(await committedOffsets(groupId, input), new Map([[0, String(amounts.length)]]));
  });

  it('gives up after maxAttempts with BATCH_TRANSACTION_FAILED, committing nothing', { timeout: TEST_TIMEOUT }, async () => {
    const { input, output } = await newTopics(1);
    const groupId = uniqueName('ctp-group');
    await produce(input, [1, 2, 3].map((n) => ({ key: 'k', value: String(n) })));

    const aborts: AbortEvent[] = [];
    let crash: unknown;
    const producer = await connected(createTransactionalProducer(kafka, uniqueName('ctp-tx')));
    const consumer = await connected(
      testConsumer(kafka, groupId, { retry: { retries: 0, restartOnFailure: () => Promise.resolve(false) } }),
    );
    consumer.on(consumer.events.CRASH, (event) => {
      crash = event.payload.error;
    });
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    await runTransactionalBatches(consumer, {
      groupId,
      producer,
      chunkSize: 1,
      maxAttempts: 2,
      retryBackoffMs: 10,
      transform: (messages) => {
        if (messages[0]?.value?.toString() === '2') throw new Error('poison');
        return [{ topic: output, key: 'k', value: `out-${messages[0]?.value?.toString() ?? ''}` }];
      },
      onAbort: (event) => void aborts.push(event),
    });
    await eventually(() => crash !== undefined, 'the consumer to crash');
    await consumer.disconnect();

    // kafkajs wraps what eachBatch threw (KafkaJSNumberOfRetriesExceeded); ours is in the cause chain.
    let cause = crash;
    while (!(cause instanceof KafkaPlumbingError) && cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
    assert.ok(cause instanceof KafkaPlumbingError, `crashed with ${String(crash)}`);
    assert.equal(cause.code, 'BATCH_TRANSACTION_FAILED');
    assert.deepEqual(aborts.map((a) => [a.info.attempt, a.willRetry]), [[1, true], [2, false]]);
    assert.deepEqual(await readToEnd(kafka, output, 1), [], 'nothing visible');
    assert.deepEqual((await readToEnd(kafka, output, 1, 'read_uncommitted')).map((r) => r.value), ['out-1', 'out-1'], 'both attempts wrote, both aborted');
    assert.equal((await committedOffsets(groupId, input)).get(0), '-1', 'no offset committed');
  });

  it('a crashed instance: its successor (same transactionalId) fences it, aborts its open transaction and redoes the batch once', { timeout: TEST_TIMEOUT }, async () => {
    const { input, output } = await newTopics(1);
    const groupId = uniqueName('ctp-group');
    const transactionalId = uniqueName('ctp-tx');
    const inputs = Array.from({ length: 10 }, (_, i) => ({ key: 'm', value: `cmd-${i}` }));
    await produce(input, inputs);

    // The old instance got as far as sending outputs and offsets, then "crashed" before committing.
    const zombie = await connected(createTransactionalProducer(kafka, transactionalId));
    const open = await zombie.transaction();
    await open.send({ topic: output, messages: inputs.map((m) => ({ key: m.key, value: `zombie(${m.value})` })) });
    await open.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '10' }] }] });

    const successor = await connectTransactionalProducer(kafka, transactionalId);
    clients.push(successor);
    await assert.rejects(open.commit(), 'the zombie can no longer commit');
    assert.equal((await committedOffsets(groupId, input)).get(0), '-1', "the zombie's offsets were aborted with it");

    let committed = 0;
    const consumer = await connected(testConsumer(kafka, groupId));
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    await runTransactionalBatches(consumer, {
      groupId,
      producer: successor,
      transform: (messages) => messages.map((m) => ({ topic: output, key: m.key, value: `event(${m.value?.toString() ?? ''})` })),
      onCommit: (e) => void (committed += e.inputCount),
    });
    await eventually(() => committed === inputs.length, 'the successor to commit all inputs');
    await consumer.disconnect();

    const expected = inputs.map((m) => `event(${m.value})`);
    assert.deepEqual((await readToEnd(kafka, output, 1)).map((r) => r.value), expected);
    const raw = (await readToEnd(kafka, output, 1, 'read_uncommitted')).map((r) => r.value);
    assert.deepEqual(raw, [...inputs.map((m) => `zombie(${m.value})`), ...expected], "the zombie's records exist but were aborted");
  });
});
