// A JSON-RPC proxy in front of anvil that times every call by method, so the throughput run can say where
// the settlement service's time goes without touching the service: simulate/estimate, broadcast until the
// receipt is there, and everything else (database, batching, ingest: the remainder of the wall time).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface RpcCall {
  readonly method: string;
  readonly startMs: number;
  readonly endMs: number;
}

interface RpcBody {
  readonly method?: string;
  readonly params?: readonly unknown[];
  readonly result?: unknown;
}

export interface RpcBreakdown {
  readonly calls: number;
  /** eth_call (the settler's simulation, and view reads such as lastBatchId). */
  readonly simulateMs: number;
  /** eth_createAccessList + eth_estimateGas (the settler's gas measurement). */
  readonly gasMs: number;
  /** From each eth_sendRawTransaction to the first non-null receipt of that hash (includes the poll sleeps). */
  readonly broadcastToReceiptMs: number;
  /** Every other RPC (lastBatchId reads, nonce and fee queries, confirmation checks). */
  readonly otherRpcMs: number;
  readonly byMethod: ReadonlyMap<string, { count: number; ms: number }>;
}

export class RpcTimer {
  private readonly calls: RpcCall[] = [];
  private readonly sentAt = new Map<string, number>();
  private readonly receipts: { startMs: number; endMs: number }[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.forward(req).then(
        (out) => {
          res.writeHead(out.status, { 'content-type': 'application/json' });
          res.end(out.body);
        },
        (err: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => { resolve(); }));
  }

  private async forward(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const startMs = performance.now();
    const res = await fetch(this.target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    const endMs = performance.now();
    this.record(body, text, startMs, endMs);
    return { status: res.status, body: text };
  }

  private record(request: string, response: string, startMs: number, endMs: number): void {
    let reqs: RpcBody[];
    let resps: RpcBody[];
    try {
      const q = JSON.parse(request) as RpcBody | RpcBody[];
      const r = JSON.parse(response) as RpcBody | RpcBody[];
      reqs = Array.isArray(q) ? q : [q];
      resps = Array.isArray(r) ? r : [r];
    } catch {
      return;
    }
    reqs.forEach((q, i) => {
      const method = q.method ?? 'unknown';
      this.calls.push({ method, startMs, endMs });
      const result = resps[i]?.result;
      if (method === 'eth_sendRawTransaction' && typeof result === 'string' && !this.sentAt.has(result)) this.sentAt.set(result, startMs);
      if (method === 'eth_getTransactionReceipt' && result !== null && result !== undefined) {
        const hash = q.params?.[0];
        const sent = typeof hash === 'string' ? this.sentAt.get(hash) : undefined;
        if (sent !== undefined && typeof hash === 'string') {
          this.sentAt.delete(hash);
          this.receipts.push({ startMs: sent, endMs });
        }
      }
    });
  }

  /** Time spent per kind of call within [fromMs, toMs] (performance.now() clock). */
  breakdown(fromMs: number, toMs: number): RpcBreakdown {
    const byMethod = new Map<string, { count: number; ms: number }>();
    let simulateMs = 0;
    let gasMs = 0;
    let otherRpcMs = 0;
    let calls = 0;
    for (const c of this.calls) {
      if (c.startMs < fromMs || c.endMs > toMs) continue;
      calls++;
      const ms = c.endMs - c.startMs;
      const m = byMethod.get(c.method) ?? { count: 0, ms: 0 };
      m.count++;
      m.ms += ms;
      byMethod.set(c.method, m);
      if (c.method === 'eth_call') simulateMs += ms;
      else if (c.method === 'eth_estimateGas' || c.method === 'eth_createAccessList') gasMs += ms;
      else if (c.method !== 'eth_sendRawTransaction' && c.method !== 'eth_getTransactionReceipt') otherRpcMs += ms;
    }
    const broadcastToReceiptMs = this.receipts.filter((r) => r.startMs >= fromMs && r.endMs <= toMs).reduce((s, r) => s + (r.endMs - r.startMs), 0);
    return { calls, simulateMs, gasMs, broadcastToReceiptMs, otherRpcMs, byMethod };
  }
}
