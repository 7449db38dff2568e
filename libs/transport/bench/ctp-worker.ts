// Benchmark worker: runs the consume-transform-produce loop against an embedded log in the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { connectEmbeddedTransport } from '../embedded/proxy-client.js';
import { startCtp, type CtpOptions } from './ctp.js';

const { port, options } = workerData as { port: MessagePort; options: CtpOptions };
const transport = connectEmbeddedTransport(port);
const { consumer } = await startCtp(transport, options);
parentPort!.postMessage('running');
parentPort!.once('message', () => {
  void consumer.close().then(() => transport.close());
});
