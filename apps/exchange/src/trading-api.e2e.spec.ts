// A trading session through the public API alone (the SDK over real HTTP and WebSocket) against the whole
// single-machine stack: embedded log, a matching engine worker, anvil with the settlement contract, the
// settlement service. Ends in fills settled on-chain with vault balances matching what the API reported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localTraderAccount, settlementAbi } from '@parallax/chain';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS } from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { ParallaxApiError, ParallaxClient, type ParallaxStream } from '@parallax/sdk';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaJsSecurity } from '@parallax/transport';
import type { Address } from 'viem';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';

const M = 'M1-USDC';

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Kafka mode uses the exchange's default topic names: the test owns them on its broker and deletes them first,
 * so a second run on the same broker starts from an empty log as the embedded run does.
 */
async function freshKafkaTopics(brokers: string): Promise<void> {
  const admin = new Kafka({ clientId: 'api-e2e-admin', brokers: brokers.split(','), logLevel: logLevel.NOTHING, ...kafkaJsSecurity() }).admin();
  await admin.connect();
  try {
    const t = DEFAULT_TOPICS;
    const names = [t.orders, t.marketEvents, t.snapshots, t.deadLetters, DEFAULT_SETTLEMENT_TOPICS.signedOrders, DEFAULT_SETTLEMENT_TOPICS.settlementStatus];
    const existing = new Set(await admin.listTopics());
    const doomed = names.filter((n) => existing.has(n));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith('parallax-'));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    // Topic deletion completes asynchronously on the broker.
    for (let i = 0; i < 100 && (await admin.listTopics()).some((t) => doomed.includes(t)); i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await admin.disconnect();
  }
}

for (const mode of ['embedded', 'kafka'] as const) describe(`trading API end to end on the ${mode} stack`, () => {
  let exchange: RunningExchange;
  let maker: ParallaxClient;
  let taker: ParallaxClient;
  let observer: ParallaxStream;
  const books: { seq: number; checksum: number }[] = [];

  before(async () => {
    const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
    if (mode === 'kafka') await freshKafkaTopics(brokers);
    const config = loadExchangeConfig({
      PARTITIONS: '2',
      MARKETS: '2',
      EXCHANGE_ENGINES: '1',
      GATEWAY_PORT: '0',
      ENGINE_HTTP_PORT_BASE: '0',
      SETTLEMENT_HTTP_PORT: '0',
      // The test owns the default names on its broker (it deletes them first): it is the deployment there.
      ...(mode === 'kafka' ? { KAFKA_BROKERS: brokers, EXCHANGE_USE_DEPLOYMENT_NAMES: 'true' } : {}),
    });
    exchange = await startExchange(config, createLogger('api-e2e', 'silent'));
    const url = exchange.gatewayUrl;
    maker = new ParallaxClient({ url, account: localTraderAccount('api-e2e', 1) });
    taker = new ParallaxClient({ url, account: localTraderAccount('api-e2e', 2) });
    await exchange.localChain!.fundTraders([maker.trader, taker.trader]);
    observer = new ParallaxClient({ url }).stream();
    observer.on((msg) => {
      if (msg['event'] === 'book') books.push({ seq: msg['seq'] as number, checksum: msg['checksum'] as number });
    });
    await observer.subscribe('book', M);
  });
  after(async () => {
    observer.close();
    await exchange.close();
  });

  it('rests, matches and reports the engine answer with wait=result', async () => {
    const asks = await maker.placeOrders(
      ['100.00', '100.01', '100.02'].map((price, i) => ({ symbol: M, params: { side: 'sell' as const, type: 'limit' as const, price, amount: '1', maxFeeRate: 2_000, clientOrderId: `ask-${i}` } })),
      'result',
    );
    assert.deepEqual(asks.map((a) => [a.result, a.order?.status]), [['answered', 'open'], ['answered', 'open'], ['answered', 'open']]);
    const buy = await taker.placeOrder(M, { side: 'buy', type: 'limit', price: '100.01', amount: '1.5', maxFeeRate: 2_000, timeInForce: 'IOC' }, 'result');
    assert.equal(buy.result, 'answered');
    assert.equal(buy.order?.status, 'filled');
    assert.equal(buy.order.filled, '1.500');
    assert.equal(buy.order.average, '100.00');
    const open = await maker.openOrders(M);
    assert.deepEqual(open.map((o) => [o.clientOrderId, o.price, o.remaining]).sort(), [['ask-1', '100.01', '0.500'], ['ask-2', '100.02', '1.000']]);
    const trades = await taker.trades(M);
    assert.deepEqual(trades.map((t) => [t.price, t.amount, t.side]), [['100.00', '1.000', 'buy'], ['100.01', '0.500', 'buy']]);
    const candles = await taker.candles(M, '1m');
    assert.equal(candles.length, 1);
    assert.deepEqual(candles[0]!.slice(1), ['100.00', '100.01', '100.00', '100.01', '1.500']);
  });

  it("keeps another trader's orders untouchable and invisible", async () => {
    const [mine] = await maker.openOrders(M);
    await assert.rejects(taker.cancelOrder(M, { orderId: mine!.id }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'ORDER_NOT_FOUND');
    await assert.rejects(taker.order(M, { orderId: mine!.id }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'ORDER_NOT_FOUND');
    assert.equal((await maker.order(M, { orderId: mine!.id })).status, 'open');
  });

  it('cancels by client order id, and the book rebuilt from diffs equals the snapshot', async () => {
    await maker.cancelOrder(M, { clientOrderId: 'ask-2' });
    await until('the cancel', async () => ((await maker.order(M, { clientOrderId: 'ask-2' })).status === 'canceled' ? true : undefined));
    const snapshot = await maker.book(M);
    const local = await until('the local book to catch up', () => {
      const b = observer.book(M);
      return b !== undefined && b.seq === snapshot.seq ? b : undefined;
    });
    assert.deepEqual(local.top(50), { bids: snapshot.bids, asks: snapshot.asks });
    assert.deepEqual(snapshot.asks, [['100.01', '0.500']]);
    assert.equal(observer.resyncs, 0);
    assert.ok(books.length >= 4, 'snapshot and updates were streamed');
  });

  it('resubscribes after a dropped connection and resyncs the book', async () => {
    observer.dropConnection();
    await maker.placeOrder(M, { side: 'buy', type: 'limit', price: '99.50', amount: '2', maxFeeRate: 2_000, clientOrderId: 'bid-1' }, 'result');
    const snapshot = await maker.book(M);
    const local = await until('the resubscribed book', () => {
      const b = observer.book(M);
      return b !== undefined && b.seq === snapshot.seq ? b : undefined;
    });
    assert.ok(observer.reconnects >= 1);
    assert.deepEqual(local.top(50), { bids: snapshot.bids, asks: snapshot.asks });
  });

  it('trades over the WebSocket with cancel-on-disconnect and a dead-man switch', async () => {
    const s1 = maker.stream();
    await s1.login();
    await s1.call({ op: 'session', cancelOnDisconnect: true });
    const placed = (await s1.call({ op: 'place', order: await maker.signOrder(M, { side: 'buy', type: 'limit', price: '90', amount: '1', maxFeeRate: 0, clientOrderId: 'cod-1' }), wait: 'result' })) as { order: { status: string } };
    assert.equal(placed.order.status, 'open');
    s1.close();
    await until('cancel-on-disconnect', async () => ((await maker.order(M, { clientOrderId: 'cod-1' })).status === 'canceled' ? true : undefined));

    const s2 = taker.stream();
    await s2.login();
    await s2.call({ op: 'deadman', timeoutMs: 1_000 });
    await s2.call({ op: 'place', order: await taker.signOrder(M, { side: 'buy', type: 'limit', price: '91', amount: '1', maxFeeRate: 0, clientOrderId: 'dms-1' }), wait: 'result' });
    // No heartbeat: the switch fires, the connection stays open.
    await until('the dead-man switch', async () => ((await taker.order(M, { clientOrderId: 'dms-1' })).status === 'canceled' ? true : undefined), 10_000);
    s2.close();
  });

  it('settles the fills on-chain with vault balances matching the API', async () => {
    const local = exchange.localChain!;
    const base = local.chain.tokens['BASE'] as Address;
    const quote = local.chain.tokens['QUOTE'] as Address;
    const balance = (token: Address, owner: Address): Promise<bigint> =>
      local.chain.publicClient.readContract({ address: local.chain.settlement, abi: settlementAbi, functionName: 'balanceOf', args: [token, owner] });
    const deposited = (owner: Address, token: Address): bigint => local.deposits.get(`${owner.toLowerCase()}/${token.toLowerCase()}`) ?? 0n;
    // 1.5 BASE (18 decimals) moved from the maker to the taker once both fills settle.
    await until('settlement', async () => ((await balance(base, taker.trader)) === deposited(taker.trader, base) + 1_500_000_000_000_000_000n ? true : undefined), 90_000);
    assert.equal(await balance(base, maker.trader), deposited(maker.trader, base) - 1_500_000_000_000_000_000n);
    // 100.00 * 1 + 100.01 * 0.5 = 150.005 QUOTE (6 decimals), fees at most the signed 0.2%.
    const notional = 150_005_000n;
    const paid = deposited(taker.trader, quote) - (await balance(quote, taker.trader));
    const got = (await balance(quote, maker.trader)) - deposited(maker.trader, quote);
    assert.ok(paid >= notional && paid <= notional + (notional * 2_000n) / 1_000_000n, `taker paid ${paid}`);
    assert.ok(got <= notional && got >= notional - (notional * 2_000n) / 1_000_000n, `maker got ${got}`);
  });
});
