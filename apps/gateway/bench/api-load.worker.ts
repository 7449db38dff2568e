// The benchmark's client side, in its own process so the gateway process's CPU time is its own: HTTP order
// submission (as fast as possible, or paced) and WebSocket subscribers measuring book-update delivery lag.
import { parentPort, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { LocalBook, type BookSnapshotMessage, type BookUpdateMessage } from '@parallax/sdk';
import { WebSocket } from 'ws';

export type LoadTask =
  | { readonly kind: 'burst'; readonly url: string; readonly bodies: readonly string[]; readonly concurrency: number }
  /** POST /v1/orders/batch?wait=ack: each body is `{ orders: [...] }`, `concurrency` requests in flight. */
  | { readonly kind: 'batch'; readonly url: string; readonly bodies: readonly string[]; readonly concurrency: number }
  /**
   * One WebSocket connection: the signed login, then every message (an `op: place` or `op: placeBatch`, each
   * with its own `id`) with `window` of them in flight; every answer is counted per order.
   */
  | { readonly kind: 'ws'; readonly url: string; readonly login: Record<string, string>; readonly messages: readonly string[]; readonly window: number }
  | { readonly kind: 'paced'; readonly url: string; readonly bodies: readonly string[]; readonly rate: number; readonly wait: 'ack' | 'result' }
  | { readonly kind: 'subscribers'; readonly url: string; readonly market: string; readonly subscribers: number; readonly timeoutMs: number };

/** Sent to a running 'subscribers' task once production ended: the book sequence every subscriber must reach. */
export interface FinalSeq {
  readonly finalSeq: number;
}

export interface LoadResult {
  readonly statuses: Record<string, number>;
  readonly results: Record<string, number>;
  readonly latenciesMs: number[];
  readonly elapsedMs: number;
  readonly ids: string[];
  /** Book update messages received (all subscribers). */
  readonly received: number;
  /**
   * Book messages that did not continue their subscriber's sequence (prevSeq != the last seq seen), plus, on
   * the first subscriber, updates whose book no longer matched the server's checksum: a delivered message
   * counts only if it is the right one, so this must be 0 for a run to count.
   */
  readonly broken: number;
  /** (prevSeq, seq, receive time ms) of every update message at every subscriber, flat. */
  readonly deliveries: number[];
  /** Subscribers that reached the final sequence before the timeout. */
  readonly reachedFinal: number;
  /**
   * Subscribers whose update messages (CRC32 over all their bytes, in order) differ from the first
   * subscriber's: the first checks every message against the checksum and keeps the whole book, so the others
   * hold the same book exactly when they received the same bytes.
   */
  readonly differing: number;
  /**
   * The first subscriber's whole book at the end, "price:amount" levels, bids best first "|" asks best first.
   */
  readonly finalBook: string;
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
  /** Per order of a batch answer (`{ orders: [...] }`), else the answer itself. */
  const countAll = (r: { status: number; json: Record<string, unknown> }): void => {
    const list = r.json['orders'];
    if (!Array.isArray(list)) {
      count(r);
      return;
    }
    for (const o of list as Record<string, unknown>[]) count({ status: r.status, json: o });
  };
  const t0 = performance.now();
  if (task.kind === 'batch') {
    let i = 0;
    await Promise.all(
      Array.from({ length: task.concurrency }, async () => {
        while (i < task.bodies.length) countAll(await post(`${task.url}/v1/orders/batch?wait=ack`, task.bodies[i++]!));
      }),
    );
    return { statuses, results, latenciesMs, elapsedMs: performance.now() - t0, ids, received: 0, broken: 0, deliveries: [], reachedFinal: 0, differing: 0, finalBook: '' };
  }
  if (task.kind === 'ws') {
    const ws = new WebSocket(`${task.url.replace(/^http/, 'ws')}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    // Answers by request id; an `error` event counts as its code (status 'error') for every order it carried.
    const waiting = new Map<number | string, (m: Record<string, unknown>) => void>();
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      const id = m['id'] as number | string | null | undefined;
      if (id === null || id === undefined) return;
      const w = waiting.get(id);
      waiting.delete(id);
      w?.(m);
    });
    const call = (text: string, id: number | string): Promise<Record<string, unknown>> =>
      new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(text);
      });
    const login = await call(JSON.stringify({ op: 'login', id: 'login', ...task.login }), 'login');
    if (login['event'] !== 'result') throw new Error(`ws login: ${JSON.stringify(login)}`);
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: task.window }, async () => {
        while (next < task.messages.length) {
          const i = next++;
          const m = await call(task.messages[i]!, i);
          if (m['event'] === 'result') countAll({ status: 200, json: m['data'] as Record<string, unknown> });
          else count({ status: 0, json: m });
        }
      }),
    );
    const elapsedMs = performance.now() - start;
    ws.close();
    return { statuses, results, latenciesMs, elapsedMs, ids, received: 0, broken: 0, deliveries: [], reachedFinal: 0, differing: 0, finalBook: '' };
  }
  if (task.kind === 'burst') {
    let i = 0;
    await Promise.all(
      Array.from({ length: task.concurrency }, async () => {
        while (i < task.bodies.length) count(await post(`${task.url}/v1/orders?wait=ack`, task.bodies[i++]!));
      }),
    );
    return { statuses, results, latenciesMs, elapsedMs: performance.now() - t0, ids, received: 0, broken: 0, deliveries: [], reachedFinal: 0, differing: 0, finalBook: '' };
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
    return { statuses, results, latenciesMs, elapsedMs: performance.now() - t0, ids, received: 0, broken: 0, deliveries: [], reachedFinal: 0, differing: 0, finalBook: '' };
  }
  const sockets: WebSocket[] = [];
  const deliveries: number[] = [];
  let received = 0;
  let broken = 0;
  let ready = 0;
  let finalSeq = Infinity;
  const lastSeqs = new Array<number>(task.subscribers).fill(-1);
  const crcs = new Array<number>(task.subscribers).fill(0);
  const book = new LocalBook(task.market);
  const wsUrl = `${task.url.replace(/^http/, 'ws')}/ws`;
  let reachedFinal = 0;
  await new Promise<void>((resolve, reject) => {
    // Past the timeout the run is reported as it stands (reachedFinal < subscribers says it was not kept up).
    const timer = setTimeout(resolve, task.timeoutMs);
    const check = (): void => {
      reachedFinal = lastSeqs.filter((s) => s >= finalSeq).length;
      if (reachedFinal === task.subscribers) {
        clearTimeout(timer);
        resolve();
      }
    };
    onFinal = (f) => {
      finalSeq = f.finalSeq;
      check();
    };
    for (let s = 0; s < task.subscribers; s++) {
      const ws = new WebSocket(wsUrl);
      sockets.push(ws);
      ws.on('open', () => {
        ws.send(JSON.stringify({ op: 'subscribe', channel: 'book', market: task.market }));
      });
      // Every subscriber checks the sequence of every message and hashes its bytes; the first also parses it,
      // keeps the whole book and checks every checksum (parsing on all of them would make this client, not the
      // gateway, the bottleneck: they all receive the same bytes, which the hash proves).
      ws.on('message', (data: Buffer) => {
        const now = Date.now();
        if (s === 0 || lastSeqs[s]! < 0) {
          const msg = JSON.parse(data.toString('utf8')) as { event?: string; type?: string; seq?: number; prevSeq?: number };
          if (msg.event !== 'book') return;
          if (msg.type === 'snapshot') {
            lastSeqs[s] = msg.seq ?? -1;
            if (s === 0 && book.reset(msg as unknown as BookSnapshotMessage) !== 'ok') broken++;
            if (++ready === task.subscribers) reply({ ready: true });
            return;
          }
          if (s === 0 && book.apply(msg as unknown as BookUpdateMessage) !== 'ok') broken++;
        }
        // The gateway writes prevSeq and seq first after the market: read them without parsing the rest.
        const head = /"type":"update","market":"[^"]*","prevSeq":(\d+),"seq":(\d+)/.exec(data.toString('latin1', 0, 160));
        if (head === null) return;
        const prevSeq = Number(head[1]);
        const seq = Number(head[2]);
        if (prevSeq !== lastSeqs[s]) broken++;
        lastSeqs[s] = seq;
        crcs[s] = crc32(data, crcs[s]);
        deliveries.push(prevSeq, seq, now);
        received++;
        if (seq >= finalSeq) check();
      });
      ws.on('error', reject);
    }
  });
  for (const ws of sockets) ws.close();
  const { bids, asks } = book.top(Number.MAX_SAFE_INTEGER);
  const side = (l: readonly (readonly [string, string])[]): string => l.map(([p, a]) => `${p}:${a}`).join(',');
  return {
    statuses,
    results,
    latenciesMs,
    elapsedMs: performance.now() - t0,
    ids,
    received,
    broken,
    deliveries,
    reachedFinal,
    differing: crcs.filter((c) => c !== crcs[0]).length,
    finalBook: `${side(bids)}|${side(asks)}`,
  };
}

let onFinal: (f: FinalSeq) => void = () => undefined;

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
else {
  let started = false;
  process.on('message', (m: LoadTask | FinalSeq) => {
    if ('finalSeq' in m) onFinal(m);
    else if (!started) {
      started = true;
      start(m);
    }
  });
}
