// The live page at / in a real browser (Debian's chromium, headless) against the whole single-machine stack:
// embedded log, a matching engine worker, anvil with the settlement contract, the settlement service. Two funded
// accounts trade through the SDK; the page must show the book as the API serves it, a trade arriving live, and a
// settled batch whose transaction is on the chain, with no console error. Also the endpoints the page reads
// (stats, settlement batches) and what the static files must not break (the API's 404s, its security headers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localTraderAccount } from '@parallax/chain';
import { expectLiveTrading, openPage, until, type LivePage } from '@parallax/gateway/testing';
import { createLogger } from '@parallax/observability';
import { ParallaxClient } from '@parallax/sdk';
import { WebSocket } from 'ws';
import { loadExchangeConfig } from './exchange.config.js';
import { fundThroughRisk } from './testing/fund.js';
import { startExchange, type RunningExchange } from './exchange.js';

const M = 'M1-USDC';
const SCREENSHOT = '/tmp/parallax-page.png';

/** The first message of a channel after subscribing on a fresh connection. */
async function firstOf(url: string, sub: Record<string, unknown>, event: string): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  try {
    return await new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString()) as Record<string, unknown>;
        if (msg['event'] === event) resolve(msg);
        if (msg['event'] === 'error') reject(new Error(JSON.stringify(msg['error'])));
      });
      ws.on('open', () => {
        ws.send(JSON.stringify({ op: 'subscribe', id: 1, ...sub }));
      });
    });
  } finally {
    ws.close();
  }
}

describe('the live page in a browser', () => {
  let exchange: RunningExchange;
  let maker: ParallaxClient;
  let taker: ParallaxClient;
  let page: LivePage | undefined;

  before(async () => {
    const config = loadExchangeConfig({ PARTITIONS: '2', MARKETS: '2', EXCHANGE_ENGINES: '1', GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0' });
    exchange = await startExchange(config, createLogger('page-e2e', 'silent'));
    maker = new ParallaxClient({ url: exchange.gatewayUrl, account: localTraderAccount('page-e2e', 1) });
    taker = new ParallaxClient({ url: exchange.gatewayUrl, account: localTraderAccount('page-e2e', 2) });
    // Deposited on chain; the orders below need the risk shards to have seen the deposits (through the watcher).
    await fundThroughRisk(exchange, [maker.trader, taker.trader]);
  });
  after(async () => {
    await page?.close();
    await exchange.close();
  });

  it('shows the book, a trade arriving live and a settled batch with its transaction, with no console error', async (t) => {
    const quotes = [
      ['sell', '101.00', '2'],
      ['sell', '100.50', '1'],
      ['buy', '99.50', '1'],
      ['buy', '99.00', '3'],
    ] as const;
    await maker.placeOrders(quotes.map(([side, price, amount]) => ({ symbol: M, params: { side, type: 'limit' as const, price, amount, maxFeeRate: 2_000 } })), 'result');

    page = await openPage(exchange.gatewayUrl);
    const api = await maker.book(M);
    // The page's book is the API's book, level for level (the page keeps it from the WebSocket stream).
    const shown = await page.book((b) => b.footnote.includes(`sequence ${api.seq} `));
    assert.deepEqual([...shown.asks].reverse(), api.asks);
    assert.deepEqual(shown.bids, api.bids);
    assert.deepEqual(api.asks, [['100.50', '1.000'], ['101.00', '2.000']]);
    assert.match(shown.footnote, /checksum verified/);

    // A trade made now reaches the open page over the WebSocket.
    const buy = await taker.placeOrder(M, { side: 'buy', type: 'limit', price: '100.50', amount: '0.5', maxFeeRate: 2_000, timeInForce: 'IOC' }, 'result');
    assert.equal(buy.order?.status, 'filled');
    const trade = (await taker.trades(M)).at(-1)!;
    const seen = await page.trade(trade.id);
    assert.deepEqual(seen, { id: trade.id, price: '100.50', amount: '0.500', side: 'buy', live: true });
    await page.book((b) => b.asks.some(([p, a]) => p === '100.50' && a === '0.500'));

    // The fill settles on the chain; the page shows the batch with the API's hash, which the chain confirms.
    const settled = await until('a settled batch in the API', async () => (await maker.settlementBatches()).find((b) => (b.status === 'mined' || b.status === 'confirmed') && b.txHash !== null), 120_000);
    const row = await page.settledBatch(settled.txHash!);
    assert.equal(row.batchId, settled.batchId);
    assert.equal(row.fills, String(settled.fillCount));
    assert.ok(settled.fillCount >= 1 && settled.gasUsed !== null && settled.gasPerFill !== null);
    assert.equal(BigInt(settled.gasPerFill), BigInt(settled.gasUsed) / BigInt(settled.fillCount));
    assert.equal(row.gasPerFill.replaceAll(',', ''), settled.gasPerFill);
    assert.ok(row.txText.startsWith(settled.txHash!.slice(0, 10)), row.txText);
    const receipt = await exchange.localChain!.chain.publicClient.getTransactionReceipt({ hash: settled.txHash as `0x${string}` });
    assert.equal(receipt.status, 'success');
    assert.equal(receipt.to?.toLowerCase(), exchange.localChain!.chain.settlement.toLowerCase());
    assert.equal(receipt.gasUsed, BigInt(settled.gasUsed));

    // The throughput tiles are fed by the stats channel (a number, not the placeholder).
    const rates = await until('the throughput tiles', async () => {
      const r = await page!.rates();
      return r.orders !== '–' && r.trades !== '–' ? r : undefined;
    });
    assert.match(rates.orders, /^[\d,.]+$/);

    await page.screenshot(SCREENSHOT);
    t.diagnostic(`page load: ${JSON.stringify(await page.loadCost())}; screenshot ${SCREENSHOT}`);
    assert.deepEqual(page.problems, []);
  });

  it('switches markets: the other book replaces the first, from its own snapshot', async () => {
    const M2 = 'M2-USDC';
    await maker.placeOrders(
      [['sell', '7.25', '4'], ['buy', '7.00', '5']].map(([side, price, amount]) => ({ symbol: M2, params: { side: side as 'buy' | 'sell', type: 'limit' as const, price: price!, amount: amount!, maxFeeRate: 2_000 } })),
      'result',
    );
    assert.ok(page, 'the page of the first test is open');
    await page.selectMarket(M2);
    const api = await maker.book(M2);
    const shown = await page.book((b) => b.asks.length === api.asks.length && b.asks[0]?.[0] === '7.25');
    assert.deepEqual([...shown.asks].reverse(), api.asks);
    assert.deepEqual(shown.bids, [['7.00', '5.000']]);
    assert.equal(new URL(page.page.url()).hash, `#${M2}`);
    assert.deepEqual(page.problems, []);
  });

  it('counts the orders and trades the engines answered (GET /v1/stats and the stats channel)', async () => {
    // The tests above: 4 + 2 resting orders and 1 taker order, 1 trade.
    const stats = await taker.stats();
    assert.equal(stats.totalOrders, 7);
    assert.equal(stats.totalTrades, 1);
    assert.equal(stats.series.length, 60);
    // The series holds complete seconds only: once the current one ends, every order is in the last minute.
    await until('the orders in the per-second series', async () => ((await taker.stats()).series.reduce((n, [, o]) => n + o, 0) === 7 ? true : undefined), 5_000);
    const pushed = await firstOf(exchange.gatewayUrl, { channel: 'stats' }, 'stats');
    assert.equal(pushed['totalOrders'], 7);
    const batches = await firstOf(exchange.gatewayUrl, { channel: 'settlement' }, 'settlement');
    assert.equal(batches['type'], 'snapshot');
    assert.deepEqual(batches['batches'], await taker.settlementBatches());
  });

  it('rejects bad settlement queries with stable codes, and keeps the API 404s and the page headers', async () => {
    const bad = ['limit=0', 'limit=501', 'limit=abc', 'limit=1e3', 'limit=-1', 'limit=1.5', 'limit=99999999999999999999', 'limit=1&limit=2', 'limit=', 'limit=%201'].map((q) => `/v1/settlement/batches?${q}`);
    for (const q of bad) {
      const r = await fetch(`${exchange.gatewayUrl}${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'INVALID_FIELD', q);
    }
    const one = (await (await fetch(`${exchange.gatewayUrl}/v1/settlement/batches?limit=1`)).json()) as { batches: unknown[] };
    assert.equal(one.batches.length, 1);
    // The page is served at / only: unknown paths stay the API's JSON 404, not the page.
    for (const path of ['/nope', '/v1/nope', '/vendor/sdk/', '/vendor/sdk/%2e%2e/%2e%2e/package.json', '/vendor/lightweight-charts/../../package.json']) {
      const r = await fetch(`${exchange.gatewayUrl}${path}`);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(await r.text(), /<html/i, path);
    }
    const root = await fetch(`${exchange.gatewayUrl}/`);
    assert.equal(root.status, 200);
    const csp = root.headers.get('content-security-policy') ?? '';
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
    assert.equal(root.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await (await fetch(`${exchange.gatewayUrl}/docs`)).text(), /swagger/i);
    assert.equal((await fetch(`${exchange.gatewayUrl}/health`)).status, 200);
    assert.match(await (await fetch(`${exchange.gatewayUrl}/metrics`)).text(), /^# HELP /m);
    const doc = (await (await fetch(`${exchange.gatewayUrl}/docs-json`)).json()) as { paths: Record<string, unknown> };
    assert.ok('/v1/stats' in doc.paths && '/v1/settlement/batches' in doc.paths, 'documented in OpenAPI');
  });

  it('expectLiveTrading: the one-call check an npm start test uses sees the same trading from a fresh page', async () => {
    const run = { looking: true };
    const seen = expectLiveTrading(exchange.gatewayUrl, { timeoutMs: 60_000 });
    seen.then(
      () => (run.looking = false),
      () => (run.looking = false),
    );
    // As a bot would: keep trading until the fresh page has seen a trade arrive (it shows only history before).
    while (run.looking) {
      await taker.placeOrder(M, { side: 'buy', type: 'limit', price: '100.50', amount: '0.01', maxFeeRate: 2_000, timeInForce: 'IOC' }, 'result');
      await new Promise((r) => setTimeout(r, 300));
    }
    const { trade, batch, book } = await seen;
    assert.deepEqual([trade.price, trade.amount, trade.side, trade.live], ['100.50', '0.010', 'buy', true]);
    assert.match(batch.txHash, /^0x[0-9a-f]{64}$/);
    assert.ok(book.bids.length > 0 && book.asks.length > 0);
  });
});
