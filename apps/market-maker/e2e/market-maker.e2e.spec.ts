// The reference market maker and the taker against the running single-machine exchange (embedded log, a
// matching engine worker, anvil with the settlement contract, the gateway): everything through the public API.
// It quotes both sides, requotes when the reference moves, resyncs after a lost book update, counts every
// fill once across a reconnect, and its quotes vanish when it hangs (dead-man switch) or is killed (SIGKILL).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadExchangeConfig, startExchange, type RunningExchange } from '@parallax/exchange';
import { fundThroughRisk, publish } from '@parallax/exchange/testing';
import { authorizeTradingKey, settlementAbi } from '@parallax/chain';
import { computeQuotes, DEFAULT_QUOTING, ExternalReference, startMarketMaker, startTaker, type RunningMarketMaker } from '@parallax/market-maker';
import { createLogger } from '@parallax/observability';
import { ParallaxApiError, ParallaxClient, type MarketInfo } from '@parallax/sdk';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';

const M1 = 'M1-USDC';
const M2 = 'M2-USDC';
const quoting = { ...DEFAULT_QUOTING, levels: 3, size: 0.5, skewBpsPerUnit: 0 };
/** Fee cap the test's own orders sign (millionths): above the launch's fees, or the risk shard refuses them (FEE_BOUND_TOO_LOW). */
const FEE_CAP = 10_000;
/** Bound on the CLI's start (loading its code, then its start-up calls): only a hung bot reaches it. */
const CLI_START_BOUND_MS = 300_000;

/** Polls `f` until it gives a value; the bound is for a loaded machine (CI shares its cores), not an expectation. */
async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)${last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})`}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The public book as [price, amount] per side, as a client sees it. */
async function levels(client: ParallaxClient, market: string): Promise<{ bids: string[]; asks: string[] }> {
  const b = await client.book(market, 50);
  return { bids: b.bids.map(([p]) => p), asks: b.asks.map(([p]) => p) };
}

function ladder(reference: number, info: MarketInfo): { bids: string[]; asks: string[] } {
  const qs = computeQuotes(reference, 0, quoting, info);
  return { bids: qs.filter((q) => q.side === 'buy').map((q) => q.price), asks: qs.filter((q) => q.side === 'sell').map((q) => q.price) };
}

describe('reference market maker on the running exchange', () => {
  let exchange: RunningExchange;
  let url: string;
  let pub: ParallaxClient;
  const mmKey = generatePrivateKey();
  const takerKey = generatePrivateKey();
  const reference = new ExternalReference();
  let mm: RunningMarketMaker;
  let markets: MarketInfo[];

  before(async () => {
    exchange = await startExchange(
      loadExchangeConfig({ PARTITIONS: '2', MARKETS: '2', EXCHANGE_ENGINES: '1', GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0' }),
      createLogger('mm-e2e', 'silent'),
    );
    url = exchange.gatewayUrl;
    pub = new ParallaxClient({ url });
    markets = await pub.markets();
    await fundThroughRisk(exchange, [privateKeyToAccount(mmKey).address, privateKeyToAccount(takerKey).address]);
    reference.set(M1, 100);
    reference.set(M2, 20);
    mm = await startMarketMaker(
      { gatewayUrl: url, privateKey: mmKey, quoting, reference, requoteBps: 5, deadmanMs: 2_000, metricsPort: 0 },
      { logger: createLogger('mm', 'silent') },
    );
  });
  after(async () => {
    await mm.close();
    await exchange.close();
  });

  it('quotes the ladder on both sides of every market the gateway lists, and says so in /metrics', async () => {
    for (const [m, ref] of [
      [M1, 100],
      [M2, 20],
    ] as const) {
      const want = ladder(ref, markets.find((x) => x.symbol === m)!);
      assert.equal(want.bids.length, 3);
      await until(`the ladder on ${m}`, async () => {
        const got = await levels(pub, m);
        return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
      });
    }
    const text = await (await fetch(mm.metricsUrl!)).text();
    assert.match(text, /parallax_mm_quotes_live\{[^}]*market="M1-USDC"[^}]*side="buy"[^}]*\} 3/);
    assert.match(text, /parallax_mm_requote_seconds_count\{[^}]*market="M2-USDC"[^}]*\} [1-9]/);
  });

  it('requotes with batch cancel + place when the reference moves past the threshold', async () => {
    const before = mm.snapshot().requotes;
    reference.set(M1, 110);
    const want = ladder(110, markets.find((x) => x.symbol === M1)!);
    await until('the ladder around the new reference', async () => {
      const got = await levels(pub, M1);
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    });
    assert.ok(mm.snapshot().requotes > before);
    const text = await (await fetch(mm.metricsUrl!)).text();
    assert.match(text, /parallax_mm_requotes_total\{[^}]*market="M1-USDC"[^}]*reason="reference_moved"[^}]*\} 1/);
  });

  it('resyncs its book after a lost update and catches up with the server', async () => {
    const before = mm.snapshot().resyncs;
    mm.faults.dropBookUpdate(M2);
    // Someone else's order changes the book: the update is lost, the next one shows the gap.
    const other = new ParallaxClient({ url, account: privateKeyToAccount(takerKey) });
    await other.placeOrder(M2, { side: 'buy', type: 'limit', price: '10', amount: '1', maxFeeRate: FEE_CAP, clientOrderId: 'gap-1' }, 'result');
    await other.placeOrder(M2, { side: 'buy', type: 'limit', price: '10.5', amount: '1', maxFeeRate: FEE_CAP, clientOrderId: 'gap-2' }, 'result');
    await until('a resync', () => (mm.snapshot().resyncs > before ? true : undefined));
    const server = await pub.book(M2);
    await until('the resynced book', () => (mm.snapshot().bookSeq[M2]! >= server.seq ? true : undefined));
    await other.cancelAll(M2);
  });

  it('the taker trades against the quotes, and each fill is counted once across a forced reconnect', async () => {
    const taker = await startTaker({ gatewayUrl: url, privateKey: takerKey, markets: [M1], ratePerSecond: 20, minSize: 0.1, maxSize: 0.4, slippageBps: 30, seed: 7 }, { logger: createLogger('taker', 'silent') });
    try {
      await until('fills counted from the stream', () => (mm.snapshot().fillsCounted >= 3 ? true : undefined));
    } finally {
      await taker.close();
    }
    assert.ok((taker.counts()['accepted'] ?? 0) >= 3);
    const own = new ParallaxClient({ url, account: privateKeyToAccount(mmKey) });
    // Every fill the stream reported is also what REST returns after the reconnect: counting both would double it.
    await until('the stream to report every fill', async () => ((await own.fills()).length === mm.snapshot().fillsCounted ? true : undefined));
    // Then a fill the stream never delivers (a connection that broke silently): only REST can tell the bot.
    const counted = mm.snapshot().fillsCounted;
    mm.faults.loseFillsUntilReconnect();
    const lost = await new ParallaxClient({ url, account: privateKeyToAccount(takerKey) }).placeOrder(
      M1,
      { side: 'buy', type: 'limit', timeInForce: 'IOC', price: '120', amount: '0.2', maxFeeRate: FEE_CAP },
      'result',
    );
    assert.equal(lost.order?.status, 'filled');
    await until('the lost fill on REST', async () => ((await own.fills()).length > counted ? true : undefined));
    assert.equal(mm.snapshot().fillsCounted, counted);
    const reconciles = mm.snapshot().reconciles;
    mm.faults.dropConnection();
    await until('reconnect and reconcile', () => (mm.snapshot().reconciles > reconciles ? true : undefined));
    const fills = await own.fills();
    const s = mm.snapshot();
    assert.equal(s.reconnects >= 1, true);
    assert.ok(s.fillsCounted > counted, 'the fill lost on the stream was recovered from REST');
    assert.equal(s.fillsCounted, fills.length);
    const net = fills.reduce((a, f) => a + (f.side === 'buy' ? 1 : -1) * Number(f.amount), 0);
    assert.ok(Math.abs(s.positions[M1]! - net) < 1e-9, `position ${s.positions[M1]} != ${net} from REST`);
    // The same figures on /metrics: fills by side, and the base asset's inventory.
    const text = await (await fetch(mm.metricsUrl!)).text();
    const series = (name: string, label: string): number =>
      [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].filter((m) => m[1]!.includes(label)).reduce((a, m) => a + Number(m[2]), 0);
    assert.equal(series('parallax_mm_fills_total', `market="${M1}"`), fills.length);
    const base = markets.find((x) => x.symbol === M1)!.base;
    assert.ok(Math.abs(series('parallax_mm_inventory', `asset="${base}"`) - net) < 1e-9);
    // And it quotes again after the reconnect.
    await until('quotes again', async () => ((await own.openOrders(M1)).length === 6 ? true : undefined));
  });

  it('quotes for its wallet with a trading key the wallet authorized, and those fills settle on-chain; an unauthorized key is refused', async () => {
    const local = exchange.localChain!;
    const wallet = privateKeyToAccount(generatePrivateKey());
    const tradingKey = generatePrivateKey();
    const key = privateKeyToAccount(tradingKey);
    await fundThroughRisk(exchange, [wallet.address]);
    const options = { gatewayUrl: url, privateKey: tradingKey, trader: wallet.address, markets: [M1], quoting, reference };
    // Before the wallet authorizes it, the key cannot even log in for the wallet.
    await assert.rejects(startMarketMaker(options, { logger: createLogger('key-bot', 'silent') }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH');
    // The wallet authorizes the key on the settlement contract (what settles the key's orders), and the chain
    // watcher reports it to the risk shards and the gateway (written here as the watcher would).
    await local.chain.testClient.setBalance({ address: wallet.address, value: 10n ** 18n });
    await authorizeTradingKey(local.chain.wallet(wallet), local.chain.publicClient, local.chain.settlement, key.address, BigInt(Math.floor(Date.now() / 1000) + 86_400));
    await publish(exchange, [{ type: 'keyAuthorized', account: wallet.address.toLowerCase() as Address, key: key.address.toLowerCase() as Address }]);
    const bot = await until('the key accepted', async () => {
      try {
        return await startMarketMaker(options, { logger: createLogger('key-bot', 'silent') });
      } catch (e) {
        if (e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH') return undefined;
        throw e;
      }
    });
    try {
      const asWallet = new ParallaxClient({ url, account: key, trader: wallet.address });
      await until('its quotes, as the wallet\'s orders', async () => {
        const open = await asWallet.openOrders(M1);
        return open.filter((o) => o.trader?.toLowerCase() === wallet.address.toLowerCase()).length >= 6 ? true : undefined;
      });
      // A taker hits the key's quotes; the fills settle on-chain against the wallet's vault balance.
      const base = local.chain.tokens['BASE'] as Address;
      const balance = (): Promise<bigint> => local.chain.publicClient.readContract({ address: local.chain.settlement, abi: settlementAbi, functionName: 'balanceOf', args: [base, wallet.address] });
      const before = await balance();
      // The main bot quotes the same prices, earlier in the queue: the taker buys the whole best level, both bots' share.
      const [bestAsk, depth] = (await pub.book(M1)).asks[0]!;
      assert.ok((await asWallet.openOrders(M1)).some((o) => o.side === 'sell' && o.price === bestAsk), "the key's quote is at the best ask");
      const hit = await new ParallaxClient({ url, account: privateKeyToAccount(takerKey) }).placeOrder(M1, { side: 'buy', type: 'limit', timeInForce: 'IOC', price: bestAsk, amount: depth, maxFeeRate: FEE_CAP }, 'result');
      assert.equal(hit.order?.filled, depth);
      await until('the fill settled on-chain', async () => ((await balance()) < before ? true : undefined), 120_000);
    } finally {
      await bot.close();
    }
  });

  it('a hung bot (no heartbeat, connection open) has its quotes cancelled by the dead-man switch', async () => {
    const key = generatePrivateKey();
    await fundThroughRisk(exchange, [privateKeyToAccount(key).address]);
    const hung = await startMarketMaker({ gatewayUrl: url, privateKey: key, markets: [M2], quoting, reference, deadmanMs: 1_000 }, { logger: createLogger('hung', 'silent') });
    const own = new ParallaxClient({ url, account: privateKeyToAccount(key) });
    try {
      await until('its quotes', async () => ((await own.openOrders(M2)).length === 6 ? true : undefined));
      hung.faults.freeze();
      await until('the dead-man switch', async () => ((await own.openOrders(M2)).length === 0 ? true : undefined));
    } finally {
      await hung.close();
    }
  });

  it('the CLI stops on SIGINT with exit 0 and its quotes cancelled', async () => {
    const key: Hex = generatePrivateKey();
    await fundThroughRisk(exchange, [privateKeyToAccount(key).address]);
    const child = spawnBot(key);
    const own = new ParallaxClient({ url, account: privateKeyToAccount(key) });
    try {
      await child.started;
      await until('the CLI bot\'s 4 quotes on M2', async () => {
        if (child.process.exitCode !== null) throw new Error(`the bot exited: ${child.stderr()}`);
        return (await own.openOrders(M2)).length === 4 ? true : undefined;
      });
      child.process.kill('SIGINT');
      assert.equal(await child.exited, 0, child.stderr());
    } finally {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
    await until('its quotes cancelled', async () => ((await own.openOrders(M2)).length === 0 ? true : undefined));
  });

  /**
   * The CLI as a process. `started` resolves when it logs that it is quoting (its start: log-in, cancel of an
   * earlier run's quotes, subscriptions), and rejects if it exits first. Loading its code alone is a few
   * CPU-seconds, over a minute of wall time on a 2-core machine at load 20: the wait is for the line, with a
   * bound that only stops a bot that hangs. The quotes are waited for after it (the usual bound).
   */
  function spawnBot(key: Hex): { process: ChildProcess; started: Promise<void>; exited: Promise<number | null>; stderr(): string } {
    const main = fileURLToPath(new URL('../main.js', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env['PATH'] ?? '', BOT_GATEWAY_URL: url, MM_PRIVATE_KEY: key, MM_MARKETS: M2, MM_LEVELS: '2', MM_METRICS_PORT: '0', MM_DEADMAN_MS: '3000', LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
      resolve(code);
    }));
    const lines: string[] = [];
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the CLI bot did not log "market maker quoting" within ${CLI_START_BOUND_MS} ms; its lines so far:\n${lines.join('\n')}\n${stderr}`));
      }, CLI_START_BOUND_MS);
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (lines.length < 200) lines.push(line);
        if (line.includes('"market maker quoting"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the CLI bot exited with ${String(code)} before quoting:\n${lines.join('\n')}\n${stderr}`));
      });
    });
    started.catch(() => undefined);
    return { process: child, started, exited, stderr: () => stderr };
  }

  it('a bot process killed with SIGKILL leaves no quotes behind', async () => {
    const key: Hex = generatePrivateKey();
    await fundThroughRisk(exchange, [privateKeyToAccount(key).address]);
    const child = spawnBot(key);
    const own = new ParallaxClient({ url, account: privateKeyToAccount(key) });
    try {
      await child.started;
      await until('the CLI bot\'s 4 quotes on M2', async () => {
        if (child.process.exitCode !== null) throw new Error(`the bot exited: ${child.stderr()}`);
        return (await own.openOrders(M2)).length === 4 ? true : undefined;
      });
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    await until('its quotes cancelled', async () => ((await own.openOrders(M2)).length === 0 ? true : undefined));
  });
});
