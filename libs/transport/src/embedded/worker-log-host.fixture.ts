// Test fixture: a worker thread that owns an embedded log and serves it on every port it is sent. The
// worker-proxy contract spec runs the contract suite in the main thread through these ports, so the suite
// exercises the proxy across a real thread boundary.
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { createEmbeddedTransport } from './embedded-transport.js';
import { serveEmbeddedTransport } from './proxy-server.js';

const root = createEmbeddedTransport();
parentPort!.on('message', (message: { port: MessagePort }) => {
  serveEmbeddedTransport(root, message.port);
});
