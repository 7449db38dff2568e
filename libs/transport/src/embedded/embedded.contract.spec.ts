import { createEmbeddedTransport } from './embedded-transport.js';
import { transportContract } from '../contract/transport-contract.js';

transportContract('embedded (in-process)', () => {
  // Every client of one fixture shares the log, like processes sharing a Kafka cluster.
  const root = createEmbeddedTransport();
  return Promise.resolve({
    open: () => Promise.resolve(root.client()),
    close: () => root.close(),
  });
});
