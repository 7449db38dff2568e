import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { directSocket, textFrame, writeFrame } from './ws-frames.js';

// ws's own framing, to compare with ours (exported at run time, not declared by @types/ws).
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] } };
const SIZES = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];

describe('ws-frames', () => {
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

  it('frames a text message byte for byte as ws does (all three length encodings)', () => {
    for (const n of SIZES) {
      const payload = Buffer.alloc(n, 0x61);
      const theirs = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
      assert.deepEqual(textFrame(payload), theirs, `payload of ${n} bytes`);
    }
  });

  it("finds ws's socket and idle sender on a server connection (fails if a ws release renames them)", async () => {
    const { client, peer } = await connect();
    assert.notEqual(directSocket(peer), undefined);
    client.close();
    await once(peer, 'close');
  });

  it('shared frames and ws.send interleave in order, the same frame object to several sockets', async () => {
    const a = await connect();
    const b = await connect();
    const expected: string[] = [];
    const got = new Map<WebSocket, string[]>([
      [a.client, []],
      [b.client, []],
    ]);
    for (const [c, list] of got) c.on('message', (d: Buffer, isBinary: boolean) => list.push(`${isBinary ? 'binary' : 'text'}:${d.toString('utf8')}`));
    SIZES.forEach((n, i) => {
      const payload = Buffer.from(JSON.stringify({ i, pad: 'é'.repeat(n) }), 'utf8');
      const frame = textFrame(payload);
      writeFrame(a.peer, frame, payload);
      writeFrame(b.peer, frame, payload);
      expected.push(`text:${payload.toString('utf8')}`);
      const viaSend = JSON.stringify({ i, via: 'send' });
      a.peer.send(viaSend);
      b.peer.send(viaSend);
      expected.push(`text:${viaSend}`);
    });
    const closed = Promise.all([once(a.client, 'close'), once(b.client, 'close')]);
    // The close frame follows every message on each socket: once it arrives, all of them have.
    a.peer.close(1000);
    b.peer.close(1000);
    await closed;
    assert.deepEqual(got.get(a.client), expected);
    assert.deepEqual(got.get(b.client), expected);
  });

  it('falls back to ws.send while ws has queued frames of its own', async () => {
    const { client, peer } = await connect();
    const sender = (peer as unknown as { _sender: { _state: number } })._sender;
    const state = sender._state;
    sender._state = 1; // as while ws compresses or reads a Blob
    assert.equal(directSocket(peer), undefined);
    sender._state = state;
    client.close();
    await once(peer, 'close');
  });
});
