import { MessageChannel, Worker } from 'node:worker_threads';
import { transportContract } from '../contract/transport-contract.js';
import { connectEmbeddedTransport } from './proxy-client.js';

transportContract('embedded through the worker-thread proxy', () => {
  const worker = new Worker(new URL('./worker-log-host.fixture.js', import.meta.url));
  return Promise.resolve({
    open: () => {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ port: port2 }, [port2]);
      return Promise.resolve(connectEmbeddedTransport(port1));
    },
    close: () => worker.terminate().then(() => undefined),
  });
});
