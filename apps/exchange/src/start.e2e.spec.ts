// `npm start` end to end, as a newcomer runs it: the README's start command (`node scripts/start.mjs`, on the
// build this checkout already has: `--no-build`, set START_E2E_BUILD=true to include the build), in embedded
// mode (no KAFKA_BROKERS, no DATABASE_URL). It waits for live trading: trades on the WebSocket, the engines'
// and the settlement service's counters rising in /metrics, a batch settled on the local chain, and the page
// showing the book, a trade and the settled batch in chromium. Then SIGINT: the launcher exits 0 and every
// process (anvil) and port it opened is released. The times to the first trade and the first settled batch
// from the spawn are printed (docs/benchmarks.md).
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { settlementAbi } from '@parallax/chain';
import { expectLiveTrading, until } from '@parallax/gateway/testing';
import { ParallaxClient, type ParallaxStream } from '@parallax/sdk';
import { createPublicClient, http, type Address } from 'viem';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Ready {
  readonly gateway: string;
  readonly ws: string;
  readonly engines: readonly string[];
  readonly settlement: string;
  readonly markets: readonly string[];
  readonly chain: { readonly rpcUrl: string; readonly settlement: Address; readonly chainId: number };
  readonly bots: { readonly marketMakerMetricsUrl: string; readonly takerMetricsUrl: string } | undefined;
  readonly testKeys: { readonly marketMaker: { readonly address: Address }; readonly marketMakerTradingKey: { readonly address: Address } };
}

/** The sum of every sample of a counter in a Prometheus text page. */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Whether something accepts connections on the URL's port. */
function listening(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      resolve(false);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every descendant process of `pid` (anvil; its npm wrapper if one is used). */
function descendants(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const kids = out.split('\n').filter((l) => l.trim() !== '').map(Number);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

interface Launched {
  readonly proc: ChildProcess;
  readonly spawnedAt: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout, one parsed JSON object per line ({ msg, unparsed: true } for a line that is not JSON). */
  readonly lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the "Parallax is running" line. */
  ready(): Promise<Ready>;
}

/** Runs the README's start command as a newcomer's machine would (no Kafka, no PostgreSQL configured). */
function launch(extraArgs: readonly string[]): Launched {
  // The test runner sets Kafka and PostgreSQL variables for other tests: none of them here.
  const inherited = (k: string): boolean => !(k.startsWith('KAFKA_') || k === 'DATABASE_URL' || k.startsWith('EXCHANGE_') || k.startsWith('LOG_'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && inherited(k)) env[k] = v;
  // Free ports, so the test never collides with a running exchange; JSON lines, so the test can read them.
  Object.assign(env, { GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0', LOG_FORMAT: 'json' });
  const spawnedAt = Date.now();
  const args = ['scripts/start.mjs', ...(process.env['START_E2E_BUILD'] === 'true' ? [] : ['--no-build']), ...extraArgs];
  const proc = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': 'exit' may come before the last lines of stdout were read (the "stopped" line).
    proc.once('close', (code, signal) => {
      resolve({ code, signal });
    });
  });
  let stderr = '';
  proc.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-20_000);
  });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  proc.stdout.on('data', (b: Buffer) => {
    rest += b.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        lines.push({ msg: p, unparsed: true });
      }
    }
  });
  return {
    proc,
    spawnedAt,
    exited,
    lines,
    stderr: () => stderr,
    ready: async () =>
      (await until(
        'the "Parallax is running" block',
        () => {
          if (proc.exitCode !== null) throw new Error(`npm start exited ${proc.exitCode}: ${stderr}`);
          return lines.find((l) => l['msg'] === 'Parallax is running (Ctrl-C stops it)');
        },
        180_000,
      )) as unknown as Ready,
  };
}

describe('npm start: one command shows Parallax trading', () => {
  const children: ChildProcess[] = [];
  let stream: ParallaxStream | undefined;
  after(() => {
    stream?.close();
    // Only if the test failed before its clean stop: leave nothing behind.
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        for (const p of descendants(child.pid)) process.kill(p, 'SIGKILL');
        child.kill('SIGKILL');
      }
    }
  });

  it('starts from the README command, trades, settles on chain, shows it on the page, and releases everything on SIGINT', async (t) => {
    const run = launch([]);
    const { proc, spawnedAt, exited, lines } = run;
    children.push(proc);
    const ready = await run.ready();
    const bots = ready.bots;
    assert.ok(bots, 'the bots run');
    const readyAfterS = (Date.now() - spawnedAt) / 1000;
    assert.deepEqual(ready.markets, ['ETH-USDC', 'BTC-USDC', 'SOL-USDC']);
    assert.deepEqual(lines.filter((l) => l['unparsed'] === true), [], 'stdout is JSON lines when piped');
    const progress = lines.filter((l) => typeof l['step'] === 'string').map((l) => l['step']);
    assert.deepEqual(progress, ['engines', 'chain', 'settlement', 'gateway', 'accounts', 'bots']);

    // The demo accounts: the market maker's trading key is authorized on chain by its wallet.
    const chain = createPublicClient({ transport: http(ready.chain.rpcUrl) });
    const expiry = await chain.readContract({
      address: ready.chain.settlement,
      abi: settlementAbi,
      functionName: 'tradingKeyExpiry',
      args: [ready.testKeys.marketMaker.address, ready.testKeys.marketMakerTradingKey.address],
    });
    assert.ok(expiry > BigInt(Math.floor(spawnedAt / 1000)), 'trading key authorized');

    // Trades on the WebSocket, from the bots alone.
    const client = new ParallaxClient({ url: ready.gateway });
    stream = client.stream();
    const wsTrades: { id: string; market: string }[] = [];
    stream.on((msg) => {
      if (msg['event'] === 'trades') for (const tr of msg['trades'] as { id: string }[]) wsTrades.push({ id: tr.id, market: String(msg['market']) });
    });
    for (const m of ready.markets) await stream.subscribe('trades', m);
    await until('a trade on the WebSocket', () => (wsTrades.length > 0 ? true : undefined), 120_000);
    // The first trade's own time (the engines stamp it), whether or not the stream was subscribed by then.
    const firsts = await Promise.all(ready.markets.map(async (m) => (await client.trades(m)).map((tr) => tr.timestamp)));
    const firstTradeS = (Math.min(...firsts.flat()) - spawnedAt) / 1000;

    // A batch settled on the local chain.
    const lastBatch = (): Promise<bigint> => chain.readContract({ address: ready.chain.settlement, abi: settlementAbi, functionName: 'lastBatchId' });
    await until('a settled batch on the chain', async () => ((await lastBatch()) >= 1n ? true : undefined), 180_000);
    const firstBatchS = (Date.now() - spawnedAt) / 1000;

    // Counters rising in /metrics: the engines' events and the settlement service's settled fills.
    const engineEvents = async (): Promise<number> => (await Promise.all(ready.engines.map((e) => counter(`${e}/metrics`, 'parallax_engine_events_total')))).reduce((a, b) => a + b, 0);
    const events0 = await engineEvents();
    await until('the engines\' event counter to rise', async () => ((await engineEvents()) > events0 ? true : undefined), 60_000);
    await until('settled fills in the settlement metrics', async () => ((await counter(`${ready.settlement}/metrics`, 'parallax_settlement_fills_settled_total')) > 0 ? true : undefined), 60_000);

    // The page, in chromium: both sides of the book, a trade arriving live, a settled batch with its
    // transaction, and no console error, page error or failed request (the page helper's one-call check).
    const seen = await expectLiveTrading(ready.gateway, { timeoutMs: 120_000, screenshot: '/tmp/parallax-npm-start.png' });
    assert.ok(seen.book.asks.length > 0 && seen.book.bids.length > 0, 'both sides of the book shown');
    assert.match(seen.batch.txHash, /^0x[0-9a-f]{64}$/);
    stream.close();
    stream = undefined;

    // Ctrl-C: everything stops, the launcher exits 0, nothing is left running or listening.
    const pids = descendants(proc.pid!);
    assert.ok(pids.length >= 1, 'anvil runs as a child process');
    const ports = [ready.gateway, ...ready.engines, ready.settlement, ready.chain.rpcUrl, bots.marketMakerMetricsUrl, bots.takerMetricsUrl];
    for (const u of ports) assert.equal(await listening(u), true, `${u} listens while running`);
    proc.kill('SIGINT');
    const exit = await exited;
    assert.deepEqual(exit, { code: 0, signal: null }, run.stderr());
    assert.ok(lines.some((l) => l['msg'] === 'stopped'), 'said it stopped');
    for (const p of pids) assert.equal(alive(p), false, `process ${p} left running`);
    for (const u of ports) assert.equal(await listening(u), false, `${u} still listening`);

    // The launcher's own progress, in ms from its start (after the build): where the start-up time goes.
    const steps = Object.fromEntries(lines.filter((l) => typeof l['step'] === 'string').map((l) => [String(l['step']), l['elapsedMs']]));
    t.diagnostic(`ready after ${readyAfterS.toFixed(1)} s; first trade ${firstTradeS.toFixed(1)} s; first settled batch ${firstBatchS.toFixed(1)} s (from the spawn); steps ${JSON.stringify(steps)}`);
    console.log(JSON.stringify({ startE2e: { readyAfterS, firstTradeS, firstBatchS, steps } }));
  });
  it('with --no-bots: no demo accounts or bots; a second signal while stopping forces the exit and still leaves nothing running', async () => {
    const run = launch(['--no-bots']);
    children.push(run.proc);
    const ready = await run.ready();
    assert.equal(ready.bots, undefined);
    assert.equal((ready as unknown as { testKeys?: unknown }).testKeys, undefined, 'no keys printed when nothing was funded');
    const progress = run.lines.filter((l) => typeof l['step'] === 'string').map((l) => l['step']);
    assert.deepEqual(progress, ['engines', 'chain', 'settlement', 'gateway']);
    const pids = descendants(run.proc.pid!);
    assert.ok(pids.length >= 1, 'anvil runs as a child process');
    // Back to back, while the first stop is still under way (without bots it takes well under a second, so
    // waiting for its log line first would race the clean exit). Two different signals: the kernel merges a
    // second SIGINT sent before the first was delivered, never a SIGTERM with a SIGINT (a terminal's Ctrl-C and
    // a supervisor's SIGTERM are the same stop to the launcher).
    run.proc.kill('SIGINT');
    run.proc.kill('SIGTERM');
    const exit = await run.exited;
    assert.deepEqual(exit, { code: 130, signal: null }, run.stderr());
    assert.ok(run.lines.some((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('stopping (SIG')), 'the first one began the clean stop');
    assert.ok(run.lines.some((l) => l['forced'] === true), 'the second one forced the exit');
    // anvil runs in its own process group: the launcher's exit hook kills it even on a forced exit.
    await until('anvil to be gone', () => (pids.every((p) => !alive(p)) ? true : undefined), 10_000);
    for (const u of [ready.gateway, ...ready.engines, ready.settlement, ready.chain.rpcUrl]) assert.equal(await listening(u), false, `${u} still listening`);
  });
});
