// Measures the bots on a whole exchange on this machine (embedded log, engine worker, anvil, gateway):
//   node apps/market-maker/dist/e2e/bots.bench.js [seconds=30] [takerRate=5]
// Prints the time to a full ladder, the requote latency (from the bot's own histogram), the fills, and the
// market maker's CPU when it only quotes (the CLI as a child process). Every run checks itself: the ladder is
// complete on every market, and the fills the bot counted are exactly those REST reports.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadExchangeConfig, startExchange } from '@parallax/exchange';
import { fundThroughRisk } from '@parallax/exchange/testing';
import { startMarketMaker, startTaker } from '@parallax/market-maker';
import { createLogger } from '@parallax/observability';
import { ParallaxClient } from '@parallax/sdk';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';

const seconds = Number(process.argv[2] ?? 30);
const takerRate = Number(process.argv[3] ?? 5);
const MARKETS = 3;
const LEVELS = 5;

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exchange = await startExchange(
  loadExchangeConfig({ PARTITIONS: '2', MARKETS: String(MARKETS), EXCHANGE_ENGINES: '1', GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0' }),
  createLogger('bench', 'silent'),
);
try {
  const mmKey = generatePrivateKey();
  const takerKey = generatePrivateKey();
  const idleKey = generatePrivateKey();
  await fundThroughRisk(exchange, [mmKey, takerKey, idleKey].map((k) => privateKeyToAccount(k).address));
  const url = exchange.gatewayUrl;
  const own = new ParallaxClient({ url, account: privateKeyToAccount(mmKey) });

  const t0 = performance.now();
  const mm = await startMarketMaker({ gatewayUrl: url, privateKey: mmKey, quoting: { levels: LEVELS } }, { logger: createLogger('mm', 'silent') });
  await until('the full ladder', async () => (await own.openOrders()).length === MARKETS * LEVELS * 2);
  const ladderMs = performance.now() - t0;

  const taker = await startTaker({ gatewayUrl: url, privateKey: takerKey, ratePerSecond: takerRate, seed: 3 }, { logger: createLogger('taker', 'silent') });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await taker.close();
  const fills = await own.fills();
  await until('every fill counted', () => Promise.resolve(mm.snapshot().fillsCounted === fills.length), 10_000);
  let count = 0;
  let sum = 0;
  const buckets = new Map<string, number>();
  for (const v of (await mm.metrics.requoteSeconds.get()).values) {
    const bound = String((v.labels as Record<string, string | number>)['le']);
    if (v.metricName?.endsWith('_bucket') === true) buckets.set(bound, (buckets.get(bound) ?? 0) + v.value);
    if (v.metricName?.endsWith('_count') === true) count += v.value;
    if (v.metricName?.endsWith('_sum') === true) sum += v.value;
  }
  await mm.close();

  // The CLI quoting alone, for its CPU.
  const child = spawn(process.execPath, [fileURLToPath(new URL('../main.js', import.meta.url))], {
    env: { PATH: process.env['PATH'] ?? '', BOT_GATEWAY_URL: url, MM_PRIVATE_KEY: idleKey, MM_LEVELS: String(LEVELS), MM_METRICS_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const idle = new ParallaxClient({ url, account: privateKeyToAccount(idleKey) });
  await until('the CLI ladder', async () => (await idle.openOrders()).length === MARKETS * LEVELS * 2);
  const cpuTicks = (): number => {
    const f = readFileSync(`/proc/${String(child.pid)}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const c0 = cpuTicks();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 20_000));
  const idleCpu = (cpuTicks() - c0) / 100 / ((performance.now() - w0) / 1000);
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));

  const le = (b: string): string => `${(((buckets.get(b) ?? 0) / count) * 100).toFixed(0)}% <= ${b} s`;
  process.stdout.write(
    [
      `markets ${MARKETS}, ${LEVELS} levels a side; taker ${takerRate}/s for ${seconds} s; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
      `start to full ladder: ${ladderMs.toFixed(0)} ms`,
      `taker orders: ${JSON.stringify(taker.counts())}; market-maker fills: ${fills.length} (each counted once)`,
      `requotes: ${count}, mean ${((sum / count) * 1000).toFixed(0)} ms; ${['0.05', '0.1', '0.25', '0.5', '1'].map(le).join(', ')}`,
      `market maker quoting only (CLI process): ${(idleCpu * 100).toFixed(2)}% of a core`,
      '',
    ].join('\n'),
  );
} finally {
  await exchange.close();
}
