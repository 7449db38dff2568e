import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { enc, eventually } from '../contract/helpers.js';
import type { ConsumedBatch, TopicPartition } from '../transport.js';
import { createEmbeddedTransport } from './embedded-transport.js';
import { serveEmbeddedTransport } from './proxy-server.js';

describe('embedded log served to worker threads', () => {
  it('rebalances the partitions of a worker that dies in the middle of a batch to the surviving members', async () => {
    const root = createEmbeddedTransport();
    const topic = 'orders';
    const groupId = 'engines';
    await root.ensureTopics([{ name: topic, partitions: 2 }]);
    const producer = await root.producer();
    await producer.send(topic, [0, 1].map((partition) => ({ key: 'k', value: enc(`p${partition}`), partition })));

    const { port1, port2 } = new MessageChannel();
    const server = serveEmbeddedTransport(root, port1);
    const worker = new Worker(new URL('./worker-stuck-consumer.fixture.js', import.meta.url), {
      workerData: { port: port2, topic, groupId },
      transferList: [port2],
    });
    const fromWorker: { assigned?: number[]; batch?: number }[] = [];
    worker.on('message', (m: { assigned?: number[]; batch?: number }) => fromWorker.push(m));
    await eventually(() => fromWorker.some((m) => m.batch !== undefined), 5_000, 'the worker to be stuck in a batch');
    assert.deepEqual(fromWorker[0], { assigned: [0, 1] });

    // A local member joins: the rebalance waits for the worker's stuck batch...
    const local = await root.client().consumer({ groupId, topics: [topic] });
    const assigned: TopicPartition[][] = [];
    const batches: ConsumedBatch[] = [];
    const running = local.run({
      onAssigned: (tps) => {
        assigned.push([...tps]);
        return Promise.resolve();
      },
      eachBatch: (batch) => {
        batches.push(batch);
        return Promise.resolve();
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(assigned.length, 0, 'no assignment while a member is inside eachBatch');

    // ...until the worker dies: its port closes, its member leaves, the survivor gets everything.
    await worker.terminate();
    await running;
    await server.closed;
    await eventually(
      () => assigned.at(-1)?.length === 2 && new Set(batches.map((b) => b.partition)).size === 2,
      5_000,
      'the survivor to own and consume both partitions',
    );
    // Nothing was committed, so the survivor starts both partitions from the beginning.
    assert.deepEqual(batches.filter((b) => b.partition === 0)[0]?.messages[0]?.offset, 0);
    await root.close();
  });
});
