// The one contract test suite every Transport implementation must pass (embedded, embedded through the
// worker proxy, Kafka). It registers node:test tests; each implementation's spec file calls it with a
// fixture factory. Tests never assume dense offsets (Kafka's transaction markers occupy offsets) and use
// fresh topic and group names, so they can share a long-lived broker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  partitionForKey,
  TransportError,
  type ConsumedBatch,
  type GroupConsumer,
  type Producer,
  type TopicPartition,
  type Transport,
  type TransportErrorCode,
} from '../transport.js';
import { dec, enc, eventually, readAll, readTopic, tpKey, uniqueName } from './helpers.js';

export interface ContractFixture {
  /** A new client of the log under test; all clients of one fixture share the same log (or cluster). */
  open(): Promise<Transport>;
  /** Releases the fixture (clients the tests opened are already closed). */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Upper bound on waiting for an asynchronous outcome: a delivery, a rebalance, visibility of a commit. */
  readonly timeoutMs?: number;
}

const isTransportError = (code: TransportErrorCode) => (e: unknown) => {
  assert.ok(e instanceof TransportError, `expected TransportError(${code}), got ${String(e)}`);
  assert.equal(e.code, code);
  return true;
};

interface Recorder {
  readonly batches: ConsumedBatch[];
  readonly assigned: TopicPartition[][];
  readonly revoked: TopicPartition[][];
  /** Values delivered, in delivery order. */
  values(): string[];
}

function recorder(): Recorder {
  const batches: ConsumedBatch[] = [];
  return {
    batches,
    assigned: [],
    revoked: [],
    values: () => batches.flatMap((b) => b.messages.map((m) => dec(m.value))),
  };
}

const sortTps = (tps: readonly TopicPartition[]) => [...tps].map((tp) => tpKey(tp.topic, tp.partition)).sort();

export function transportContract(name: string, setup: () => Promise<ContractFixture>, options: ContractOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 5_000;

  describe(`Transport contract: ${name}`, () => {
    let fixture: ContractFixture | undefined;
    before(async () => {
      fixture = await setup();
    });
    after(async () => {
      await fixture?.close();
    });

    /** Runs a test body with a function that opens clients; all of them are closed afterwards. */
    async function withClients(body: (open: () => Promise<Transport>) => Promise<void>): Promise<void> {
      const opened: Transport[] = [];
      try {
        await body(async () => {
          const t = await fixture!.open();
          opened.push(t);
          return t;
        });
      } finally {
        await Promise.all(opened.map((t) => t.close()));
      }
    }

    /** A consume-transform-produce member: one transaction per batch, outputs + input offsets together. */
    async function transformer(
      t: Transport,
      args: {
        groupId: string;
        input: string;
        output: string;
        transactionalId: string;
        maxBatchSize?: number;
        rec?: Recorder;
        /** Called inside the transaction after the outputs were sent: throwing aborts it. */
        inFill?: (batch: ConsumedBatch) => void;
        /** Called after the transaction committed, before eachBatch returns. */
        afterCommit?: (batch: ConsumedBatch) => void;
        onAssigned?: (tps: readonly TopicPartition[]) => void;
        onRevoked?: (tps: readonly TopicPartition[]) => void;
        /** Wraps the whole batch (the rebalance test checks exclusive ownership with it). */
        around?: (batch: ConsumedBatch, work: () => Promise<void>) => Promise<void>;
      },
    ): Promise<{ consumer: GroupConsumer; producer: Producer }> {
      const producer = await t.producer({ transactionalId: args.transactionalId });
      const consumer = await t.consumer({
        groupId: args.groupId,
        topics: [args.input],
        ...(args.maxBatchSize === undefined ? {} : { maxBatchSize: args.maxBatchSize }),
      });
      const rec = args.rec;
      const work = async (batch: ConsumedBatch) => {
        await producer.transaction((tx) => {
          tx.send(
            args.output,
            batch.messages.map((m) => ({ key: m.key ?? '', value: m.value })),
          );
          args.inFill?.(batch);
          const last = batch.messages[batch.messages.length - 1]!;
          tx.commitOffsets(args.groupId, [{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
        });
        rec?.batches.push(batch);
        args.afterCommit?.(batch);
      };
      await consumer.run({
        onAssigned: (tps) => {
          rec?.assigned.push([...tps]);
          args.onAssigned?.(tps);
          return Promise.resolve();
        },
        onRevoked: (tps) => {
          rec?.revoked.push([...tps]);
          args.onRevoked?.(tps);
          return Promise.resolve();
        },
        eachBatch: (batch) => (args.around ? args.around(batch, () => work(batch)) : work(batch)),
      });
      return { consumer, producer };
    }

    async function sendKeyed(p: Producer, topic: string, keys: number, count: number, tag: string): Promise<string[]> {
      const messages = Array.from({ length: count }, (_, i) => ({ key: `k${i % keys}`, value: enc(`${tag}-${i}`) }));
      await p.send(topic, messages);
      return messages.map((m) => dec(m.value));
    }

    // ---------------------------------------------------------------- topics, keys, offsets, reads

    it('creates topics idempotently and refuses another partition count', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('topics');
        await t.ensureTopics([{ name: topic, partitions: 3 }]);
        await t.ensureTopics([{ name: topic, partitions: 3 }]);
        assert.equal(await t.partitionCount(topic), 3);
        await assert.rejects(t.ensureTopics([{ name: topic, partitions: 5 }]), isTransportError('TOPIC_EXISTS_WITH_OTHER_PARTITIONS'));
        await assert.rejects(t.partitionCount(uniqueName('missing')), isTransportError('UNKNOWN_TOPIC'));
        // A second client of the same log sees the topic.
        const t2 = await open();
        assert.equal(await t2.partitionCount(topic), 3);
      }));

    it('routes every key to partitionForKey(key) and keeps per-key order; an explicit partition wins', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('keys');
        await t.ensureTopics([{ name: topic, partitions: 4 }]);
        const p = await t.producer();
        const keys = Array.from({ length: 16 }, (_, i) => `market-${i}`);
        for (let round = 0; round < 3; round++) {
          await p.send(
            topic,
            keys.map((key) => ({ key, value: enc(`${key}#${round}`), headers: { round: String(round) } })),
          );
        }
        await p.send(topic, [{ key: 'market-0', value: enc('pinned'), partition: (partitionForKey('market-0', 4) + 1) % 4 }]);
        const seen = new Map<string, number[]>();
        for (let partition = 0; partition < 4; partition++) {
          for (const m of await readAll(t, topic, partition)) {
            assert.equal(m.topic, topic);
            assert.equal(m.partition, partition);
            const value = dec(m.value);
            if (value === 'pinned') {
              assert.equal(partition, (partitionForKey('market-0', 4) + 1) % 4);
              continue;
            }
            assert.ok(m.key !== null);
            assert.equal(partition, partitionForKey(m.key, 4), `key ${m.key} in partition ${partition}`);
            const [key, round] = value.split('#');
            assert.equal(key, m.key);
            assert.equal(m.headers.round, round);
            assert.ok(m.timestamp > 0);
            const rounds = seen.get(m.key) ?? [];
            rounds.push(Number(round));
            seen.set(m.key, rounds);
          }
        }
        assert.equal(seen.size, keys.length);
        for (const rounds of seen.values()) assert.deepEqual(rounds, [0, 1, 2]);
      }));

    it('numbers offsets from 0 per partition and reports end offsets', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('offsets');
        await t.ensureTopics([{ name: topic, partitions: 2 }]);
        assert.deepEqual(await t.endOffsets(topic), new Map([[0, 0], [1, 0]]));
        const p = await t.producer();
        await p.send(topic, [0, 1, 2].map((i) => ({ key: 'a', value: enc(`m${i}`), partition: 0 })));
        await p.send(topic, [{ key: 'b', value: enc('m3'), partition: 0 }, { key: 'c', value: enc('x'), partition: 1 }]);
        const messages = await readAll(t, topic, 0);
        assert.deepEqual(messages.map((m) => m.offset), [0, 1, 2, 3]);
        assert.deepEqual(messages.map((m) => dec(m.value)), ['m0', 'm1', 'm2', 'm3']);
        assert.deepEqual(await t.endOffsets(topic), new Map([[0, 4], [1, 1]]));
        await assert.rejects(p.send(topic, [{ key: 'a', value: enc('bad'), partition: 2 }]), isTransportError('INVALID_PARTITION'));
        await assert.rejects(p.send(uniqueName('missing'), [{ key: 'a', value: enc('x') }]), isTransportError('UNKNOWN_TOPIC'));
        await assert.rejects(t.endOffsets(uniqueName('missing')), isTransportError('UNKNOWN_TOPIC'));
        assert.deepEqual(await t.endOffsets(topic), new Map([[0, 4], [1, 1]]), 'a refused send appends nothing');
        assert.deepEqual(await t.startOffsets(topic), new Map([[0, 0], [1, 0]]), 'nothing deleted: every partition starts at 0');
        await assert.rejects(t.startOffsets(uniqueName('missing')), isTransportError('UNKNOWN_TOPIC'));
      }));

    it('reads [from, to) ranges, clamps `to` to the end, and rejects unknown partitions', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('ranges');
        await t.ensureTopics([{ name: topic, partitions: 1 }]);
        const p = await t.producer();
        await p.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: enc(String(i)) })));
        const offsets = async (from: number, to?: number) => (await readAll(t, topic, 0, from, to)).map((m) => m.offset);
        assert.deepEqual(await offsets(2, 7), [2, 3, 4, 5, 6]);
        assert.deepEqual(await offsets(8), [8, 9]);
        assert.deepEqual(await offsets(5, 5), []);
        assert.deepEqual(await offsets(10), []);
        assert.deepEqual(await offsets(0, 1000), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        await assert.rejects(readAll(t, topic, 1), isTransportError('INVALID_PARTITION'));
        await assert.rejects(readAll(t, uniqueName('missing'), 0), isTransportError('UNKNOWN_TOPIC'));
        // Stopping early is allowed (and releases whatever the read holds).
        for await (const batch of t.read(topic, 0, 0)) {
          assert.ok(batch.length > 0);
          break;
        }
      }));

    it('keeps the latest value of every key on a compacted topic', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('compacted');
        await t.ensureTopics([{ name: topic, partitions: 1, compacted: true }]);
        const p = await t.producer();
        for (let v = 0; v < 5; v++) await p.send(topic, ['a', 'b', 'c'].map((key) => ({ key, value: enc(`${key}${v}`) })));
        const latest = new Map<string, string>();
        for (const m of await readAll(t, topic, 0)) latest.set(m.key!, dec(m.value));
        assert.deepEqual(latest, new Map([['a', 'a4'], ['b', 'b4'], ['c', 'c4']]));
      }));

    // ---------------------------------------------------------------- transactions

    it('makes a committed transaction visible with its offsets; a failed fill leaves nothing', () =>
      withClients(async (open) => {
        const t = await open();
        const out = uniqueName('tx-out');
        const input = uniqueName('tx-in');
        const group = uniqueName('tx-group');
        await t.ensureTopics([{ name: out, partitions: 2 }, { name: input, partitions: 2 }]);
        const p = await t.producer({ transactionalId: uniqueName('tx') });
        const boom = new Error('fill failed');
        await assert.rejects(
          p.transaction((tx) => {
            tx.send(out, [{ key: 'a', value: enc('aborted'), partition: 0 }]);
            tx.commitOffsets(group, [{ topic: input, partition: 0, offset: 7 }]);
            throw boom;
          }),
          (e) => e === boom,
        );
        await p.transaction(async (tx) => {
          tx.send(out, [{ key: 'a', value: enc('one'), partition: 0 }]);
          await sleep(1);
          tx.send(out, [{ key: 'b', value: enc('two'), partition: 1 }, { key: 'a', value: enc('three'), partition: 0 }]);
          tx.commitOffsets(group, [{ topic: input, partition: 1, offset: 42 }]);
        });
        // Kafka makes a commit visible to read_committed readers asynchronously (commit markers).
        await eventually(async () => (await readTopic(t, out)).length === 3, timeoutMs, 'the committed transaction');
        assert.deepEqual((await readAll(t, out, 0)).map((m) => dec(m.value)), ['one', 'three']);
        assert.deepEqual((await readAll(t, out, 1)).map((m) => dec(m.value)), ['two']);
        assert.deepEqual(await t.committedOffsets(group, input), new Map([[1, 42]]));
        // The end offset covers the transaction (markers may add offsets: only "past the last message" is asserted).
        const ends = await t.endOffsets(out);
        assert.ok(ends.get(0)! >= 2 && ends.get(1)! >= 1);
        // Reading to the end terminates even when the end is a commit marker, and from the last message on.
        const last = (await readAll(t, out, 0)).at(-1)!;
        assert.deepEqual((await readAll(t, out, 0, last.offset)).map((m) => dec(m.value)), ['three']);
        assert.deepEqual(await readAll(t, out, 0, last.offset + 1), []);
        // An empty transaction is fine and changes nothing.
        await p.transaction(() => undefined);
        assert.deepEqual(await t.committedOffsets(group, input), new Map([[1, 42]]));
        assert.deepEqual(await t.committedOffsets(uniqueName('no-group'), input), new Map());
      }));

    it('commits transactions and sends far larger than one request (several MiB to one partition), in order', () =>
      withClients(async (open) => {
        const t = await open();
        const out = uniqueName('big-out');
        await t.ensureTopics([{ name: out, partitions: 1 }]);
        // 48 values of 96 KiB = 4.5 MiB in one transaction, then the same again in one plain send: more than
        // Kafka's default 1 MiB record batch, and than one produce request should carry.
        const value = (i: number) => {
          const v = new Uint8Array(96 * 1024).fill(i % 251);
          v.set(enc(`#${i}`));
          return v;
        };
        const p = await t.producer({ transactionalId: uniqueName('big') });
        await p.transaction((tx) => {
          tx.send(
            out,
            Array.from({ length: 48 }, (_, i) => ({ key: 'k', value: value(i), partition: 0 })),
          );
        });
        await p.send(
          out,
          Array.from({ length: 48 }, (_, i) => ({ key: 'k', value: value(48 + i), partition: 0 })),
        );
        let got: Uint8Array[] = [];
        await eventually(
          async () => {
            got = (await readAll(t, out, 0)).map((m) => m.value);
            return got.length === 96;
          },
          timeoutMs,
          'both large writes',
        );
        got.forEach((v, i) => {
          assert.equal(v.length, 96 * 1024);
          assert.deepEqual(v, value(i), `message ${i} intact and in order`);
        });
      }));

    it('refuses transactions on a producer without a transactionalId, on closed producers and unknown topics', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('notx');
        await t.ensureTopics([{ name: topic, partitions: 1 }]);
        const plain = await t.producer();
        await assert.rejects(plain.transaction(() => undefined), isTransportError('NOT_TRANSACTIONAL'));
        const p = await t.producer({ transactionalId: uniqueName('tx') });
        await assert.rejects(
          p.transaction((tx) => {
            tx.send(topic, [{ key: 'a', value: enc('lost') }]);
            tx.send(uniqueName('missing'), [{ key: 'a', value: enc('x') }]);
          }),
          isTransportError('UNKNOWN_TOPIC'),
        );
        await assert.rejects(
          p.transaction((tx) => {
            tx.send(topic, [{ key: 'a', value: enc('x'), partition: 9 }]);
          }),
          isTransportError('INVALID_PARTITION'),
        );
        // The producer still works after refused transactions, and none of their messages exist.
        await p.transaction((tx) => {
          tx.send(topic, [{ key: 'a', value: enc('kept') }]);
        });
        await eventually(async () => (await readAll(t, topic, 0)).length === 1, timeoutMs, 'the committed message');
        assert.deepEqual((await readAll(t, topic, 0)).map((m) => dec(m.value)), ['kept']);
        await p.close();
        await assert.rejects(p.transaction(() => undefined), isTransportError('PRODUCER_CLOSED'));
        await assert.rejects(p.send(topic, [{ key: 'a', value: enc('x') }]), isTransportError('PRODUCER_CLOSED'));
      }));

    it('fences the older producer of a transactionalId, including in the middle of a transaction', () =>
      withClients(async (open) => {
        const t1 = await open();
        const t2 = await open();
        const topic = uniqueName('fence');
        const id = uniqueName('fence-id');
        await t1.ensureTopics([{ name: topic, partitions: 1 }]);
        const old = await t1.producer({ transactionalId: id });
        await old.transaction((tx) => {
          tx.send(topic, [{ key: 'k', value: enc('old-1') }]);
        });
        const next = await t2.producer({ transactionalId: id });
        await assert.rejects(
          old.transaction((tx) => {
            tx.send(topic, [{ key: 'k', value: enc('zombie-1') }]);
          }),
          isTransportError('PRODUCER_FENCED'),
        );
        await next.transaction((tx) => {
          tx.send(topic, [{ key: 'k', value: enc('new-1') }]);
        });
        // A producer opened while `next` is filling its transaction fences it before it commits.
        let third: Producer | undefined;
        await assert.rejects(
          next.transaction(async (tx) => {
            tx.send(topic, [{ key: 'k', value: enc('zombie-2') }]);
            third = await t1.producer({ transactionalId: id });
          }),
          isTransportError('PRODUCER_FENCED'),
        );
        // Fenced is final.
        await assert.rejects(next.transaction(() => undefined), isTransportError('PRODUCER_FENCED'));
        await third!.transaction((tx) => {
          tx.send(topic, [{ key: 'k', value: enc('third-1') }]);
        });
        await eventually(async () => (await readAll(t1, topic, 0)).length === 3, timeoutMs, 'three committed messages');
        assert.deepEqual((await readAll(t1, topic, 0)).map((m) => dec(m.value)), ['old-1', 'new-1', 'third-1']);
      }));

    // ---------------------------------------------------------------- group consumers

    it('delivers batches of one partition in offset order, never above maxBatchSize, after onAssigned', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('batches');
        const group = uniqueName('batches-g');
        await t.ensureTopics([{ name: topic, partitions: 2 }]);
        const p = await t.producer();
        const sent = await sendKeyed(p, topic, 5, 57, 'v');
        const rec = recorder();
        const events: string[] = [];
        const c = await t.consumer({ groupId: group, topics: [topic], maxBatchSize: 7 });
        await c.run({
          onAssigned: (tps) => {
            events.push('assigned');
            rec.assigned.push([...tps]);
            return Promise.resolve();
          },
          eachBatch: (batch) => {
            events.push('batch');
            rec.batches.push(batch);
            return Promise.resolve();
          },
        });
        await eventually(() => rec.values().length >= sent.length, timeoutMs, 'all messages');
        assert.equal(events[0], 'assigned');
        assert.deepEqual(sortTps(rec.assigned.at(-1)!), [tpKey(topic, 0), tpKey(topic, 1)]);
        assert.deepEqual(rec.values().sort(), [...sent].sort());
        const lastOffset = new Map<number, number>();
        for (const batch of rec.batches) {
          assert.equal(batch.topic, topic);
          assert.ok(batch.messages.length >= 1 && batch.messages.length <= 7, `batch of ${batch.messages.length}`);
          for (const m of batch.messages) {
            assert.equal(m.partition, batch.partition);
            assert.ok(m.offset > (lastOffset.get(batch.partition) ?? -1), 'offsets grow within a partition');
            lastOffset.set(batch.partition, m.offset);
            assert.ok(m.offset < batch.highWatermark);
          }
        }
        // The transport never commits by itself.
        assert.deepEqual(await t.committedOffsets(group, topic), new Map());
        await c.close();
        await c.stopped;
      }));

    it('with concurrentPartitions, never hands out two batches of one partition at once and delivers everything', () =>
      withClients(async (open) => {
        const t = await open();
        const input = uniqueName('conc-in');
        await t.ensureTopics([{ name: input, partitions: 4 }]);
        const p = await t.producer();
        const sent: string[] = [];
        for (let round = 0; round < 5; round++) {
          const messages = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: enc(`r${round}-${i}`), partition: i % 4 }));
          await p.send(input, messages);
          sent.push(...messages.map((m) => dec(m.value)));
        }
        const busy = new Set<number>();
        const got: string[] = [];
        const perPartition = new Map<number, number[]>();
        const c = await t.consumer({ groupId: uniqueName('conc'), topics: [input], maxBatchSize: 7, concurrentPartitions: 4 });
        await c.run({
          eachBatch: async (batch) => {
            assert.ok(!busy.has(batch.partition), `partition ${batch.partition} delivered twice at once`);
            busy.add(batch.partition);
            await sleep(2);
            for (const m of batch.messages) {
              got.push(dec(m.value));
              const offsets = perPartition.get(batch.partition) ?? [];
              offsets.push(m.offset);
              perPartition.set(batch.partition, offsets);
            }
            busy.delete(batch.partition);
          },
        });
        await eventually(() => Promise.resolve(got.length >= sent.length), timeoutMs, 'all messages');
        await c.close();
        assert.deepEqual([...got].sort(), [...sent].sort());
        for (const offsets of perPartition.values()) assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
      }));

    it('starts at the committed offset; fromBeginning: false skips what was there before', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('start');
        await t.ensureTopics([{ name: topic, partitions: 1 }]);
        const p = await t.producer();
        await sendKeyed(p, topic, 1, 5, 'old');
        // Committed offset wins over fromBeginning.
        const group = uniqueName('start-g');
        const tp = await t.producer({ transactionalId: uniqueName('start-tx') });
        await tp.transaction((tx) => {
          tx.commitOffsets(group, [{ topic, partition: 0, offset: 3 }]);
        });
        await eventually(async () => (await t.committedOffsets(group, topic)).get(0) === 3, timeoutMs, 'the commit');
        const rec = recorder();
        const c1 = await t.consumer({ groupId: group, topics: [topic] });
        await c1.run({ eachBatch: (b) => (rec.batches.push(b), Promise.resolve()) });
        await eventually(() => rec.values().length >= 2, timeoutMs, 'messages after the committed offset');
        assert.deepEqual(rec.values(), ['old-3', 'old-4']);
        await c1.close();

        const late = recorder();
        const c2 = await t.consumer({ groupId: uniqueName('late-g'), topics: [topic], fromBeginning: false });
        await c2.run({ eachBatch: (b) => (late.batches.push(b), Promise.resolve()) });
        // Kafka resolves "latest" asynchronously after the join: keep producing until something arrives.
        let i = 0;
        await eventually(
          async () => {
            await p.send(topic, [{ key: 'k', value: enc(`new-${i++}`) }]);
            return late.values().length > 0;
          },
          timeoutMs,
          'a message produced after the consumer started',
        );
        assert.ok(late.values().every((v) => v.startsWith('new-')), `only new messages: ${late.values().join(',')}`);
        const firstSeen = Number(late.values()[0]!.slice(4));
        await eventually(() => late.values().length === i - firstSeen, timeoutMs, 'every later message');
        await c2.close();
      }));

    it('stops a consumer whose handler throws: stopped rejects, nothing more is delivered, a new member resumes', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('throw');
        const group = uniqueName('throw-g');
        await t.ensureTopics([{ name: topic, partitions: 1 }]);
        const p = await t.producer();
        await sendKeyed(p, topic, 1, 10, 'v');
        const boom = new Error('handler failed');
        let calls = 0;
        const c1 = await t.consumer({ groupId: group, topics: [topic], maxBatchSize: 3 });
        await c1.run({
          eachBatch: () => {
            calls++;
            return Promise.reject(boom);
          },
        });
        await assert.rejects(c1.stopped, (e) => e === boom);
        await sendKeyed(p, topic, 1, 2, 'later');
        await sleep(50);
        assert.equal(calls, 1, 'no batch after the failure');
        await c1.close();
        const rec = recorder();
        const c2 = await t.consumer({ groupId: group, topics: [topic] });
        await c2.run({ eachBatch: (b) => (rec.batches.push(b), Promise.resolve()) });
        await eventually(() => rec.values().length >= 12, timeoutMs, 'redelivery from the committed offset (none)');
        assert.equal(rec.values()[0], 'v-0');
        await c2.close();
      }));

    it('consume-transform-produce is exactly once across a crash inside and after a transaction', () =>
      withClients(async (open) => {
        const t = await open();
        const input = uniqueName('ctp-in');
        const output = uniqueName('ctp-out');
        const group = uniqueName('ctp-g');
        const txId = uniqueName('ctp-tx');
        await t.ensureTopics([{ name: input, partitions: 3 }, { name: output, partitions: 3 }]);
        const p = await t.producer();
        const sent = await sendKeyed(p, input, 12, 240, 'in');

        // Member 1 aborts its transaction when it meets in-100 (the batch's outputs must vanish).
        const crash1 = new Error('crash inside the transaction');
        const m1 = await transformer(t, {
          groupId: group, input, output, transactionalId: txId, maxBatchSize: 16,
          inFill: (batch) => {
            if (batch.messages.some((m) => dec(m.value) === 'in-100')) throw crash1;
          },
        });
        await assert.rejects(m1.consumer.stopped, (e) => e === crash1);

        // Member 2 (a new process: new client, same transactional id) commits its first batch, then dies
        // before acknowledging it: the batch is committed, so it must not be processed again.
        const t2 = await open();
        const crash2 = new Error('crash after the commit');
        const m2 = await transformer(t2, {
          groupId: group, input, output, transactionalId: txId, maxBatchSize: 16,
          afterCommit: () => {
            throw crash2;
          },
        });
        await assert.rejects(m2.consumer.stopped, (e) => e === crash2);
        await assert.rejects(
          m1.producer.transaction((tx) => {
            tx.send(output, [{ key: 'zombie', value: enc('zombie') }]);
          }),
          isTransportError('PRODUCER_FENCED'),
        );

        // Member 3 finishes the stream.
        const t3 = await open();
        const m3 = await transformer(t3, { groupId: group, input, output, transactionalId: txId, maxBatchSize: 16 });
        const inputEnds = await t.endOffsets(input);
        await eventually(
          async () => {
            const committed = await t.committedOffsets(group, input);
            return [...inputEnds].every(([partition, end]) => committed.get(partition) === end);
          },
          timeoutMs,
          'offsets committed up to the end of the input',
        );
        await eventually(async () => (await readTopic(t, output)).length >= sent.length, timeoutMs, 'all outputs');
        const outputs = (await readTopic(t, output)).map((m) => dec(m.value));
        assert.equal(outputs.length, sent.length, 'no duplicates');
        assert.deepEqual(outputs.sort(), [...sent].sort(), 'no loss');
        // Per key, outputs keep the input order.
        for (let partition = 0; partition < 3; partition++) {
          const byKey = new Map<string, number[]>();
          for (const m of await readAll(t, output, partition)) {
            const list = byKey.get(m.key!) ?? [];
            list.push(Number(dec(m.value).slice(3)));
            byKey.set(m.key!, list);
          }
          for (const list of byKey.values()) assert.deepEqual(list, [...list].sort((a, b) => a - b));
        }
        await m3.consumer.close();
      }));

    it('rebalances when members join and leave: disjoint ownership, revoke before assign, exactly once', () =>
      withClients(async (open) => {
        const tA = await open();
        const tB = await open();
        const input = uniqueName('rb-in');
        const output = uniqueName('rb-out');
        const group = uniqueName('rb-g');
        await tA.ensureTopics([{ name: input, partitions: 4 }, { name: output, partitions: 4 }]);
        const p = await tA.producer();
        const sent: string[] = [];
        sent.push(...(await sendKeyed(p, input, 16, 160, 'a')));

        // Exclusive ownership: a partition is never inside two eachBatch calls at once, and only its
        // current owner (per the latest onAssigned/onRevoked it heard) delivers it.
        const inFlight = new Map<string, number>();
        const violations: string[] = [];
        const around = (member: string) => async (batch: ConsumedBatch, work: () => Promise<void>) => {
          const k = tpKey(batch.topic, batch.partition);
          const n = (inFlight.get(k) ?? 0) + 1;
          inFlight.set(k, n);
          if (n > 1) violations.push(`${k} delivered concurrently`);
          if (!owned.get(member)!.has(k)) violations.push(`${k} delivered to ${member}, which does not own it`);
          try {
            await sleep(1);
            await work();
          } finally {
            inFlight.set(k, inFlight.get(k)! - 1);
          }
        };
        const owned = new Map<string, Set<string>>([['A', new Set()], ['B', new Set()]]);
        const onAssigned = (member: string) => (tps: readonly TopicPartition[]) => {
          owned.set(member, new Set(tps.map((tp) => tpKey(tp.topic, tp.partition))));
        };
        const onRevoked = (member: string) => (tps: readonly TopicPartition[]) => {
          for (const tp of tps) {
            const k = tpKey(tp.topic, tp.partition);
            if (!owned.get(member)!.delete(k)) violations.push(`${member} was revoked ${k} it did not own`);
          }
        };
        const all = [0, 1, 2, 3].map((partition) => tpKey(input, partition));
        const outputsNow = async () => (await readTopic(tA, output)).map((m) => dec(m.value));

        const recA = recorder();
        const a = await transformer(tA, {
          groupId: group, input, output, transactionalId: `${group}-A`, maxBatchSize: 8,
          rec: recA, around: around('A'), onAssigned: onAssigned('A'), onRevoked: onRevoked('A'),
        });
        await eventually(() => sortTps(recA.assigned.at(-1) ?? []).join() === all.join(), timeoutMs, 'A owning every partition');

        // B joins while A is busy with a new burst.
        sent.push(...(await sendKeyed(p, input, 16, 160, 'b')));
        const recB = recorder();
        const b = await transformer(tB, {
          groupId: group, input, output, transactionalId: `${group}-B`, maxBatchSize: 8,
          rec: recB, around: around('B'), onAssigned: onAssigned('B'), onRevoked: onRevoked('B'),
        });
        await eventually(
          () => {
            const ownedA = sortTps(recA.assigned.at(-1) ?? []);
            const ownedB = sortTps(recB.assigned.at(-1) ?? []);
            return ownedB.length > 0 && ownedA.length > 0 && [...ownedA, ...ownedB].sort().join() === all.join();
          },
          timeoutMs,
          'A and B splitting the partitions',
        );
        const ownedB = sortTps(recB.assigned.at(-1)!);
        const revokedFromA = recA.revoked.flatMap((tps) => sortTps(tps));
        for (const k of ownedB) assert.ok(revokedFromA.includes(k), `${k} was revoked from A before B got it`);
        sent.push(...(await sendKeyed(p, input, 16, 160, 'c')));
        await eventually(async () => (await outputsNow()).length >= sent.length, timeoutMs, 'outputs with two members');
        assert.ok(recB.batches.length > 0, 'B processed batches');

        // B leaves while both are busy: its partitions are revoked from it, then A owns everything again.
        sent.push(...(await sendKeyed(p, input, 16, 160, 'd')));
        await b.consumer.close();
        await b.consumer.stopped;
        assert.deepEqual(recB.revoked.flatMap((tps) => sortTps(tps)).sort(), ownedB, 'B revoked what it owned on close');
        await eventually(() => sortTps(recA.assigned.at(-1) ?? []).join() === all.join(), timeoutMs, 'A owning every partition again');
        sent.push(...(await sendKeyed(p, input, 16, 160, 'e')));
        await eventually(async () => (await outputsNow()).length >= sent.length, timeoutMs, 'all outputs');
        await sleep(100);
        const outputs = await outputsNow();
        assert.deepEqual(violations, []);
        assert.equal(outputs.length, sent.length, 'no duplicates');
        assert.deepEqual(outputs.sort(), [...sent].sort(), 'no loss');
        const ends = await tA.endOffsets(input);
        const committed = await tA.committedOffsets(group, input);
        for (const [partition, end] of ends) assert.equal(committed.get(partition), end, `committed offset of partition ${partition}`);
        await a.consumer.close();
      }));

    it('coPartitioned: partition p of every subscribed topic goes to one member, through joins and leaves', () =>
      withClients(async (open) => {
        const topics = [uniqueName('cp-x'), uniqueName('cp-y'), uniqueName('cp-z')];
        const group = uniqueName('cp-g');
        const tA = await open();
        await tA.ensureTopics(topics.map((name) => ({ name, partitions: 3 })));
        const members = await Promise.all([tA, await open(), await open()].map(async (t) => {
          const rec = recorder();
          const consumer = await t.consumer({ groupId: group, topics, coPartitioned: true });
          await consumer.run({
            onAssigned: (tps) => {
              rec.assigned.push([...tps]);
              return Promise.resolve();
            },
            eachBatch: () => Promise.resolve(),
          });
          return { rec, consumer };
        }));
        // Each member's latest assignment: the same partition numbers in all three topics, disjoint, complete.
        const settled = (live: typeof members) => {
          const sets = live.map((m) => m.rec.assigned.at(-1) ?? []);
          if (sets.some((tps) => tps.length === 0) || sets.flat().length !== 9) return false;
          return sets.every((tps) => {
            const byTopic = topics.map((topic) => tps.filter((tp) => tp.topic === topic).map((tp) => tp.partition).sort().join());
            return byTopic.every((ps) => ps === byTopic[0]);
          });
        };
        await eventually(() => settled(members), timeoutMs, 'three members, co-partitioned');
        const owners = members.map((m) => sortTps(m.rec.assigned.at(-1)!));
        assert.deepEqual([...new Set(owners.flat())].length, 9, 'disjoint and complete');
        await members[2]!.consumer.close();
        await eventually(() => settled(members.slice(0, 2)), timeoutMs, 'two members, co-partitioned');
        for (const m of members) await m.consumer.close();
      }));

    it('rejects calls after close with TRANSPORT_CLOSED and closes its consumers', () =>
      withClients(async (open) => {
        const t = await open();
        const topic = uniqueName('closed');
        await t.ensureTopics([{ name: topic, partitions: 1 }]);
        const c = await t.consumer({ groupId: uniqueName('closed-g'), topics: [topic] });
        let revoked = 0;
        await c.run({
          eachBatch: () => Promise.resolve(),
          onRevoked: () => {
            revoked++;
            return Promise.resolve();
          },
        });
        await t.close();
        await c.stopped;
        assert.equal(revoked, 1, 'the consumer gave its partitions back');
        await assert.rejects(t.partitionCount(topic), isTransportError('TRANSPORT_CLOSED'));
        await assert.rejects(t.producer(), isTransportError('TRANSPORT_CLOSED'));
        await t.close();
      }));
  });
}
