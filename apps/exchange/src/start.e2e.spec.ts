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
  readonly bots: { readonly marketMakerMetricsUrl: string; readonly takerMetricsUrl: string };
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

describe('npm start: one command shows Parallax trading', () => {
  let child: ChildProcess | undefined;
  let stream: ParallaxStream | undefined;
  after(() => {
    stream?.close();
    // Only if the test failed before its clean stop: leave nothing behind.
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      for (const p of descendants(child.pid)) process.kill(p, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });

  it('starts from the README command, trades, settles on chain, shows it on the page, and releases everything on SIGINT', async (t) => {
    // A newcomer's machine: no Kafka, no PostgreSQL configured (the test runner sets both for other tests).
    const inherited = (k: string): boolean => !(k.startsWith('KAFKA_') || k === 'DATABASE_URL' || k.startsWith('EXCHANGE_') || k.startsWith('LOG_'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && inherited(k)) env[k] = v;
    // Free ports, so the test never collides with a running exchange; JSON lines, so the test can read them.
    Object.assign(env, { GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0', LOG_FORMAT: 'json' });
    const spawnedAt = Date.now();
    const args = ['scripts/start.mjs', ...(process.env['START_E2E_BUILD'] === 'true' ? [] : ['--no-build'])];
    const proc = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.once('exit', (code, signal) => {
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

    const ready = (await until(
      'the "Parallax is running" block',
      () => {
        if (proc.exitCode !== null) throw new Error(`npm start exited ${proc.exitCode}: ${stderr}`);
        return lines.find((l) => l['msg'] === 'Parallax is running (Ctrl-C stops it)');
      },
      180_000,
    )) as unknown as Ready;
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
    const ports = [ready.gateway, ...ready.engines, ready.settlement, ready.chain.rpcUrl, ready.bots.marketMakerMetricsUrl, ready.bots.takerMetricsUrl];
    for (const u of ports) assert.equal(await listening(u), true, `${u} listens while running`);
    proc.kill('SIGINT');
    const exit = await exited;
    assert.deepEqual(exit, { code: 0, signal: null }, stderr);
    assert.ok(lines.some((l) => l['msg'] === 'stopped'), 'said it stopped');
    for (const p of pids) assert.equal(alive(p), false, `process ${p} left running`);
    for (const u of ports) assert.equal(await listening(u), false, `${u} still listening`);

    // The launcher's own progress, in ms from its start (after the build): where the start-up time goes.
    const steps = Object.fromEntries(lines.filter((l) => typeof l['step'] === 'string').map((l) => [String(l['step']), l['elapsedMs']]));
    t.diagnostic(`ready after ${readyAfterS.toFixed(1)} s; first trade ${firstTradeS.toFixed(1)} s; first settled batch ${firstBatchS.toFixed(1)} s (from the spawn); steps ${JSON.stringify(steps)}`);
    console.log(JSON.stringify({ startE2e: { readyAfterS, firstTradeS, firstBatchS, steps } }));
  });
});
