import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { closeSlowConsumer, coalesceWindowMs, isSlowConsumer, sendToAll, SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON } from './fanout-policy.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coalesceWindowMs', () => {
  const b = { baseMs: 10, maxMs: 40, writesPerSecond: 40_000 };
  it('keeps the base window while the budget allows it', () => {
    assert.equal(coalesceWindowMs(0, b), 10);
    assert.equal(coalesceWindowMs(1, b), 10);
    assert.equal(coalesceWindowMs(400, b), 10);
  });
  it('grows with the subscribers so that writes per second stay within the budget', () => {
    assert.equal(coalesceWindowMs(401, b), 11);
    assert.equal(coalesceWindowMs(1_000, b), 25);
    for (const n of [401, 777, 1_000, 1_599]) assert.ok((n * 1000) / coalesceWindowMs(n, b) <= b.writesPerSecond, `${n} subscribers`);
  });
  it('never passes the cap, and an operator base above the cap wins', () => {
    assert.equal(coalesceWindowMs(1_600, b), 40);
    assert.equal(coalesceWindowMs(1_000_000, b), 40);
    assert.equal(coalesceWindowMs(1_000, { ...b, baseMs: 100 }), 100);
  });
  it('treats nonsense counts as no subscribers', () => {
    assert.equal(coalesceWindowMs(-5, b), 10);
    assert.equal(coalesceWindowMs(Number.NaN, b), 10);
  });
});

describe('sendToAll and slow consumers', () => {
  let server: WebSocketServer;
  let url: string;
  before(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
  });
  const connect = async (): Promise<{ client: WebSocket; peer: WebSocket }> => {
    const accepted = once(server, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(url);
    await once(client, 'open');
    const [peer] = await accepted;
    return { client, peer };
  };

  it('is slow only past the limit', () => {
    assert.equal(isSlowConsumer(100, 100), false);
    assert.equal(isSlowConsumer(101, 100), true);
  });

  it('a subscriber that stops reading is dropped with 4008 SLOW_CONSUMER after what it was sent; the others get everything', async () => {
    const fast = await connect();
    const slow = await connect();
    const limit = 256 * 1024;
    const received = new Map<WebSocket, number[]>([
      [fast.client, []],
      [slow.client, []],
    ]);
    for (const [c, list] of received) c.on('message', (d: Buffer) => list.push((JSON.parse(d.toString('utf8')) as { n: number }).n));
    slow.client.pause(); // reads nothing: the kernel's buffers fill, then ws's
    const targets = new Set([fast.peer, slow.peer]);
    const dropped: WebSocket[] = [];
    const none = (): boolean => dropped.length === 0; // a call: the sends below may change it
    let sentToSlow = 0;
    let n = 0;
    // Bounded: the kernel buffers of a loopback socket hold a few MB; 4,000 x 16 KB is far past them.
    for (; n < 4_000 && none(); n++) {
      const before = slow.peer.readyState;
      const written = sendToAll(targets, (s) => s, Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(16_000) }), 'utf8'), limit, (s) => {
        dropped.push(s);
        targets.delete(s);
        closeSlowConsumer(s);
      });
      if (before === WebSocket.OPEN && none()) sentToSlow++;
      assert.equal(written, none() ? 2 : 1);
      await turn();
    }
    assert.deepEqual(dropped, [slow.peer]);
    assert.ok(slow.peer.bufferedAmount > limit);
    // Later messages go to the others only.
    for (let k = 0; k < 5; k++) assert.equal(sendToAll(targets, (s) => s, Buffer.from(JSON.stringify({ n: n++ }), 'utf8'), limit, () => assert.fail('no other slow consumer')), 1);
    const closing = once(slow.client, 'close') as Promise<[number, Buffer]>;
    slow.client.resume();
    const [code, reason] = await closing;
    assert.equal(code, SLOW_CONSUMER_CLOSE_CODE);
    assert.equal(reason.toString('utf8'), SLOW_CONSUMER_REASON);
    assert.deepEqual(
      received.get(slow.client),
      Array.from({ length: sentToSlow }, (_, i) => i),
    );
    const fastClosed = once(fast.client, 'close');
    fast.peer.close(1000);
    await fastClosed;
    assert.deepEqual(
      received.get(fast.client),
      Array.from({ length: n }, (_, i) => i),
    );
  });

  it('skips sockets that are not open', async () => {
    const { client, peer } = await connect();
    const closed = once(peer, 'close');
    client.close();
    await closed;
    assert.equal(sendToAll([peer], (s) => s, Buffer.from('{}'), 1024, () => assert.fail('not slow, closed')), 0);
  });
});
