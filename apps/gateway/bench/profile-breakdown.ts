// Where the gateway thread's time goes: a V8 CPU profile's samples grouped by what they run (the innermost
// frame that belongs to a known part: a signature recovery called from a controller counts as recovery).
// Idle samples and the profiler's own are left out; shares are of the rest.

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const PARTS: readonly (readonly [string, RegExp])[] = [
  ['secp256k1 recovery (libsecp256k1)', /secp256k1|Secp256k1Addon/],
  ['keccak and viem helpers (digests, addresses)', /@noble\/hashes|\/viem\//],
  ["Node crypto (keccak of order digests and signer addresses; the throttler's key hash)", /node:internal\/crypto|node:crypto/],
  ['class-validator / class-transformer (request DTOs)', /class-validator|class-transformer|reflect-metadata|validation\.pipe/],
  ['@nestjs/throttler (rate limits)', /throttler/],
  ['Express, body-parser and their helpers', /\/(express|body-parser|raw-body|router|type-is|on-finished|finalhandler|content-type|qs|iconv-lite|statuses|mime-types|accepts|negotiator|parseurl|path-to-regexp)\//],
  ['Nest core (routing, pipes, guards, interceptors)', /@nestjs\//],
  ['Node HTTP and sockets', /node:_http|node:http|node:net|node:internal\/streams|node:stream|^writev$/],
  ['its log client (the embedded log over a MessagePort)', /libs\/transport|postMessage|node:internal\/worker/],
  ['message encoding (libs/contracts)', /libs\/contracts/],
  ['decimal.js (prices and sizes)', /decimal\.js/],
  ['gateway code (orders, market data, chain helpers)', /apps\/gateway|libs\/chain|libs\/sdk|libs\/order-book|libs\/risk/],
];

export function profileBreakdown(p: CpuProfile): { part: string; share: number }[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = (id: number): string => {
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(garbage collector)') return 'garbage collection';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const text = `${f.url} ${f.functionName}`;
      for (const [part, re] of PARTS) if (re.test(text) || re.test(f.functionName)) return part;
    }
    return 'other (V8 internals, microtasks, timers)';
  };
  const totals = new Map<string, number>();
  let all = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)' || f.url.startsWith('node:inspector') || f.functionName === '(program)') return;
    const t = p.timeDeltas[i] ?? 0;
    all += t;
    const part = partOf(id);
    totals.set(part, (totals.get(part) ?? 0) + t);
  });
  return [...totals].map(([part, t]) => ({ part, share: all === 0 ? 0 : t / all })).sort((a, b) => b.share - a.share);
}
