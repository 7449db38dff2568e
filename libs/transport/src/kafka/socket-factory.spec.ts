import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it, mock } from 'node:test';
import type tls from 'node:tls';
import { noDelaySocketFactory } from './socket-factory.js';

describe('noDelaySocketFactory', () => {
  const server = net.createServer((s) => s.end());
  const listening = new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as net.AddressInfo).port);
    });
  });
  after(() => server.close());

  it('connects with Nagle off and keep-alive on', async () => {
    const port = await listening;
    const noDelay = mock.method(net.Socket.prototype, 'setNoDelay');
    const keepAlive = mock.method(net.Socket.prototype, 'setKeepAlive');
    try {
      let socket: net.Socket | undefined;
      await new Promise<void>((resolve) => {
        socket = noDelaySocketFactory({ host: '127.0.0.1', port, ssl: undefined as unknown as tls.ConnectionOptions, onConnect: resolve });
      });
      assert.ok(socket instanceof net.Socket);
      assert.ok(noDelay.mock.calls.some((c) => c.this === socket && c.arguments[0] !== false), 'setNoDelay(true) on the socket');
      assert.ok(keepAlive.mock.calls.some((c) => c.this === socket && c.arguments[0] === true), 'setKeepAlive(true) on the socket');
      socket.destroy();
    } finally {
      noDelay.mock.restore();
      keepAlive.mock.restore();
    }
  });
});
