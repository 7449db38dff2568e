// The stream's reconnect loop while the gateway is away: one retry loop, one attempt at a time, never a growing
// crowd of them.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ParallaxClient } from './client.js';

describe('ParallaxStream reconnect', () => {
  it('makes one connection attempt at a time while every attempt fails', async () => {
    // A "gateway" that accepts each connection and drops it a moment later, before any WebSocket handshake.
    let open = 0;
    let maxOpen = 0;
    let attempts = 0;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      attempts++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      sockets.add(socket);
      socket.on('close', () => {
        open--;
        sockets.delete(socket);
      });
      socket.on('error', () => undefined);
      setTimeout(() => socket.destroy(), 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const stream = new ParallaxClient({ url: `http://127.0.0.1:${port}` }).stream({ reconnectBaseMs: 5, reconnectMaxMs: 5 });
    try {
      await assert.rejects(stream.subscribe('trades', 'M1-USDC'));
      while (attempts < 25) await new Promise((r) => setTimeout(r, 10));
      assert.equal(maxOpen, 1, `${maxOpen} connection attempts were open at once`);
      // Each reconnect opens its own socket: more reconnects than sockets means retry loops running side by side.
      assert.ok(stream.reconnects <= attempts + 1, `${stream.reconnects} reconnects for ${attempts} connections`);
    } finally {
      stream.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    }
  });
});
