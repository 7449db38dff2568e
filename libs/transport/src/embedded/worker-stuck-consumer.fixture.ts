// Test fixture: a worker that joins a consumer group through the proxy, reports its assignments, and then
// hangs inside its first eachBatch - the main thread terminates it mid-batch.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { connectEmbeddedTransport } from './proxy-client.js';

const { port, topic, groupId } = workerData as { port: MessagePort; topic: string; groupId: string };
const transport = connectEmbeddedTransport(port);
const consumer = await transport.consumer({ groupId, topics: [topic] });
await consumer.run({
  onAssigned: (partitions) => {
    parentPort!.postMessage({ assigned: partitions.map((p) => p.partition) });
    return Promise.resolve();
  },
  eachBatch: (batch) => {
    parentPort!.postMessage({ batch: batch.partition });
    return new Promise<void>(() => undefined);
  },
});
