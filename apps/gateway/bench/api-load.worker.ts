// The benchmark's client side, in its own process so the gateway process's CPU time is its own: HTTP order
// submission (as fast as possible, or paced) and WebSocket subscribers measuring book-update delivery lag.
import { parentPort, workerData } from 'node:worker_threads';
import { LocalBook, type BookSnapshotMessage, type BookUpdateMessage } from '@parallax/sdk';
import { WebSocket } from 'ws';

export type LoadTask =
  | { readonly kind: 'burst'; readonly url: string; readonly bodies: readonly string[]; readonly concurrency: number }
  | { readonly kind: 'paced'; readonly url: string; readonly bodies: readonly string[]; readonly rate: number; readonly wait: 'ack' | 'result' }
  | { readonly kind: 'subscribers'; readonly url: string; readonly market: string; readonly subscribers: number; readonly expectUpdates: number; readonly timeoutMs: number };

export interface LoadResult {
  readonly statuses: Record<string, number>;
  readonly results: Record<string, number>;
  readonly latenciesMs: number[];
  readonly elapsedMs: number;
  readonly ids: string[];
  readonly received: number;
  /**
   * Book messages that did not continue their subscriber's sequence (prevSeq != the last seq seen), plus, on
   * the first subscriber, updates whose book no longer matched the server's checksum: a delivered message
   * counts only if it is the right one, so this must be 0 for a run to count.
   */
  readonly broken: number;
}

async function post(url: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function run(task: LoadTask): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const results: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const ids: string[] = [];
  const count = (r: { status: number; json: Record<string, unknown> }): void => {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const answer = r.json['result'];
    const result = typeof answer === 'string' ? answer : ((r.json['error'] as { code?: string } | undefined)?.code ?? 'unknown');
    results[result] = (results[result] ?? 0) + 1;
    if (typeof r.json['id'] === 'string') ids.push(r.json['id']);
  };
  const t0 = performance.now();
  if (task.kind === 'burst') {
    let i = 0;
    await Promise.all(
      Array.from({ length: task.concurrency }, async () => {
        while (i < task.bodies.length) count(await post(`${task.url}/v1/orders?wait=ack`, task.bodies[i++]!));
      }),
    );
    return { statuses, results, latenciesMs, elapsedMs: performance.now() - t0, ids, received: 0, broken: 0 };
  }
  if (task.kind === 'paced') {
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < task.bodies.length; i++) {
      const due = t0 + (i * 1000) / task.rate;
      const now = performance.now();
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      // Latency from when the request was due (no coordinated omission).
      inflight.push(
        post(`${task.url}/v1/orders?wait=${task.wait}`, task.bodies[i]!).then((r) => {
          latenciesMs.push(performance.now() - due);
          count(r);
        }),
      );
    }
    await Promise.all(inflight);
    return { statuses, results, latenciesMs, elapsedMs: performance.now() - t0, ids, received: 0, broken: 0 };
  }
  const sockets: WebSocket[] = [];
  let received = 0;
  let broken = 0;
  let ready = 0;
  const wsUrl = `${task.url.replace(/^http/, 'ws')}/ws`;
  await new Promise<void>((resolve, reject) => {
    // Past the timeout the run is reported as it stands (delivered < expected says the rate was not kept up).
    const timer = setTimeout(resolve, task.timeoutMs);
    for (let s = 0; s < task.subscribers; s++) {
      const ws = new WebSocket(wsUrl);
      sockets.push(ws);
      ws.on('open', () => {
        ws.send(JSON.stringify({ op: 'subscribe', channel: 'book', market: task.market }));
      });
      // Every subscriber checks the sequence; the first also keeps the whole book and checks every checksum
      // (doing that on all of them would make the client, not the gateway, the bottleneck of this run).
      const book = s === 0 ? new LocalBook(task.market) : undefined;
      let lastSeq = -1;
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as { event?: string; type?: string; ts?: number; seq?: number; prevSeq?: number };
        if (msg.event === 'book' && msg.type === 'snapshot') {
          lastSeq = msg.seq ?? -1;
          if (book !== undefined && book.reset(msg as unknown as BookSnapshotMessage) !== 'ok') broken++;
          if (++ready === task.subscribers) reply({ ready: true });
        } else if (msg.event === 'book' && msg.type === 'update') {
          if (msg.prevSeq !== lastSeq) broken++;
          lastSeq = msg.seq ?? -1;
          if (book !== undefined && book.apply(msg as unknown as BookUpdateMessage) !== 'ok') broken++;
          latenciesMs.push(Date.now() - (msg.ts ?? 0));
          if (++received === task.expectUpdates * task.subscribers) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      ws.on('error', reject);
    }
  });
  for (const ws of sockets) ws.close();
  return { statuses, results, latenciesMs, elapsedMs: performance.now() - t0, ids, received, broken };
}

// Runs as a child process (the gateway process's CPU time then excludes the client): the task arrives over IPC.
const reply = (m: unknown): void => {
  if (parentPort !== null) parentPort.postMessage(m);
  else process.send?.(m);
};
const start = (task: LoadTask): void => {
  run(task).then(
    (r) => {
      reply({ done: r });
    },
    (e: unknown) => {
      reply({ error: e instanceof Error ? e.message : String(e) });
    },
  );
};
if (parentPort !== null) start(workerData as LoadTask);
else process.once('message', (task: LoadTask) => {
  start(task);
});
