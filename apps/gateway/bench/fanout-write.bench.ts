// The cost of one book message to one subscriber, A/B in one session: `ws.send(bytes)` per socket (ws frames it
// again each time) against one shared frame written to every socket (`ws-frames.ts`). The server is this
// thread; the subscribers (plain ws clients that only count bytes) run in a child process. Rounds alternate
// the two ways, and each is charged this thread's CPU time (process.threadCpuUsage), so the ratio holds on
// a shared machine even when wall times do not.
//   node apps/gateway/dist/bench/fanout-write.bench.js [--subscribers 1000] [--rounds 200] [--bytes 2000]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { WebSocket, WebSocketServer } from 'ws';
import { textFrame, writeFrame } from '../stream/ws-frames.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

async function client(url: string, n: number): Promise<void> {
  let bytes = 0;
  let open = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      if (++open === n) process.send?.({ open });
    });
    ws.on('message', (d: Buffer) => {
      bytes += d.length;
    });
  }
  process.on('message', (m: { report?: boolean }) => {
    if (m.report === true) process.send?.({ bytes });
  });
  await new Promise(() => undefined);
}

async function main(): Promise<void> {
  const subscribers = opt('subscribers', 1_000);
  const rounds = opt('rounds', 200);
  const size = opt('bytes', 2_000);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const sockets: WebSocket[] = [];
  server.on('connection', (ws) => sockets.push(ws));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const child = fork(fileURLToPath(import.meta.url), ['--client', url, String(subscribers)]);
  await once(child, 'message');
  while (sockets.length < subscribers) await new Promise((r) => setTimeout(r, 10));
  const payload = Buffer.from(JSON.stringify({ event: 'book', type: 'update', pad: 'x'.repeat(Math.max(0, size - 40)) }), 'utf8');
  const cpu = { send: 0, frame: 0 };
  // Lets the writes drain and the client read between rounds (a fan-out tick is one round).
  const drain = async (): Promise<void> => {
    while (sockets.some((s) => s.bufferedAmount > 0)) await new Promise((r) => setTimeout(r, 1));
  };
  for (let r = 0; r < rounds; r++) {
    const way = r % 2 === 0 ? 'send' : 'frame';
    const t0 = process.threadCpuUsage();
    if (way === 'send') {
      for (const s of sockets) if (s.readyState === s.OPEN) s.send(payload, { binary: false });
    } else {
      const frame = textFrame(payload);
      for (const s of sockets) if (s.readyState === s.OPEN) writeFrame(s, frame, payload);
    }
    const t = process.threadCpuUsage(t0);
    cpu[way] += t.user + t.system;
    await drain();
  }
  child.send({ report: true });
  const [{ bytes }] = (await once(child, 'message')) as [{ bytes: number }];
  const expected = rounds * subscribers * payload.length;
  if (bytes !== expected) throw new Error(`the subscribers received ${bytes} bytes, expected ${expected}`);
  const writes = (rounds / 2) * subscribers;
  const perSend = cpu.send / writes;
  const perFrame = cpu.frame / writes;
  console.log(
    `${subscribers} subscribers x ${rounds} rounds of ${payload.length} bytes (load ${loadavg()[0]!.toFixed(2)}): ws.send ${perSend.toFixed(2)} us a write, shared frame ${perFrame.toFixed(2)} us a write (${(perSend / perFrame).toFixed(2)}x); every byte received`,
  );
  child.kill();
  for (const s of sockets) s.terminate();
  server.close();
}

if (args[0] === '--client') void client(args[1]!, Number(args[2]));
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
