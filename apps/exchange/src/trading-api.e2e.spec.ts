// A trading session through the public API alone (the SDK over real HTTP and WebSocket) against the whole
// single-machine stack: embedded log, a matching engine worker, anvil with the settlement contract, the
// settlement service. Ends in fills settled on-chain with vault balances matching what the API reported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localTraderAccount, settlementAbi } from '@parallax/chain';
import { DEFAULT_RISK_RESULTS_TOPIC, DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS, DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS } from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { ParallaxApiError, ParallaxClient, type CandleRow, type FillInfo, type ParallaxStream, type TickerInfo } from '@parallax/sdk';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaJsSecurity } from '@parallax/transport';
import type { Address } from 'viem';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';
import { fundThroughRisk, publish } from './testing/fund.js';

const M = 'M1-USDC';
/**
 * How long a fired dead-man switch's cancels may take to show (gateway -> risk shard -> engine -> gateway): a
 * bound for a loaded machine, not an expectation.
 */
const SWITCH_WAIT_MS = 60_000;
/** The switch a new session disarms, and its witness: longer than a log-in and one call take under load. */
const DISARMED_SWITCH_MS = 5_000;

/** Places a resting buy over the stream and waits for the engine's answer: the gateway has seen it open. */
async function placeOpen(stream: ParallaxStream, client: ParallaxClient, clientOrderId: string, price: string): Promise<void> {
  const r = (await stream.call({ op: 'place', order: await client.signOrder(M, { side: 'buy', type: 'limit', price, amount: '1', maxFeeRate: 2_000, clientOrderId }), wait: 'result' })) as { order?: { status: string } };
  assert.equal(r.order?.status, 'open', `${clientOrderId} rests before its switch is armed`);
}

/** Polls `f` until it gives a value; the bound is for a loaded machine (CI shares its cores), not an expectation. */
async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`);
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
    const names = [t.orders, t.marketEvents, t.snapshots, t.deadLetters, DEFAULT_SETTLEMENT_TOPICS.signedOrders, DEFAULT_SETTLEMENT_TOPICS.settlementStatus, DEFAULT_RISK_TOPICS.requests, DEFAULT_RISK_TOPICS.chainEvents, DEFAULT_RISK_TOPICS.accountEvents, DEFAULT_RISK_STATE_TOPICS.journal, DEFAULT_RISK_STATE_TOPICS.snapshots, DEFAULT_RISK_RESULTS_TOPIC];
    const existing = new Set(await admin.listTopics());
    const doomed = names.filter((n) => existing.has(n));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
    // The groups' committed offsets would point into the deleted topics (a reset to the end skips the new
    // deposits). A group a crashed earlier run is still a member of cannot be deleted until that member's
    // session expires: ask again until none is left, within a bound for a hang.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith('parallax-'));
      if (groups.length === 0) break;
      try {
        await admin.deleteGroups(groups);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the consumer groups of an earlier run (${groups.join(', ')}) could not be deleted within 120 s: ${err instanceof Error ? err.message : String(err)}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
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
  let brokers: string[];
  const books: { seq: number; checksum: number }[] = [];
  const tickers: TickerInfo[] = [];
  const candles = new Map<string, Map<number, CandleRow>>();

  before(async () => {
    const list = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
    brokers = list.split(',');
    if (mode === 'kafka') await freshKafkaTopics(list);
    const config = loadExchangeConfig({
      PARTITIONS: '2',
      MARKETS: '2',
      EXCHANGE_ENGINES: '1',
      GATEWAY_PORT: '0',
      ENGINE_HTTP_PORT_BASE: '0',
      SETTLEMENT_HTTP_PORT: '0',
      // The test owns the default names on its broker (it deletes them first): it is the deployment there.
      ...(mode === 'kafka' ? { KAFKA_BROKERS: list, EXCHANGE_USE_DEPLOYMENT_NAMES: 'true' } : {}),
    });
    exchange = await startExchange(config, createLogger('api-e2e', 'silent'));
    const url = exchange.gatewayUrl;
    maker = new ParallaxClient({ url, account: localTraderAccount('api-e2e', 1) });
    taker = new ParallaxClient({ url, account: localTraderAccount('api-e2e', 2) });
    await fundThroughRisk(exchange, [maker.trader, taker.trader], {}, brokers);
    observer = new ParallaxClient({ url }).stream();
    observer.on((msg) => {
      if (msg['event'] === 'book') books.push({ seq: msg['seq'] as number, checksum: msg['checksum'] as number });
      if (msg['event'] === 'ticker') tickers.push(msg as unknown as TickerInfo);
      if (msg['event'] === 'candles') {
        const key = `${String(msg['market'])}/${String(msg['interval'])}`;
        let rows = candles.get(key);
        if (rows === undefined) candles.set(key, (rows = new Map<number, CandleRow>()));
        for (const r of msg['candles'] as CandleRow[]) rows.set(r[0], r);
      }
    });
    await observer.subscribe('book', M);
    await observer.subscribe('ticker', M);
    await observer.subscribe('candles', M, '1m');
    await observer.subscribe('candles', M, '1d');
  });
  after(async () => {
    // Set-up may have failed part-way: close what exists, and the exchange always (an open exchange keeps the
    // test process alive until the runner's timeout instead of letting it fail at once).
    try {
      (observer as ParallaxStream | undefined)?.close();
    } finally {
      await (exchange as RunningExchange | undefined)?.close();
    }
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

  it('streams candles per interval and the ticker as trades arrive', async () => {
    // The subscriptions' snapshots came first (no trades yet: no candles, an empty ticker).
    assert.equal(tickers[0]?.last, null);
    const row = ['100.00', '100.01', '100.00', '100.01', '1.500'];
    for (const interval of ['1m', '1d']) {
      const rows = await until(`the ${interval} candle`, () => {
        const r = [...(candles.get(`${M}/${interval}`)?.values() ?? [])];
        return r.length === 1 && r[0]![5] === '1.500' ? r : undefined;
      });
      assert.deepEqual(rows[0]!.slice(1), row);
      assert.equal(rows[0]![0] % (interval === '1m' ? 60_000 : 86_400_000), 0);
    }
    const t = await until('the ticker after the trades', () => tickers.find((x) => x.baseVolume === '1.500' && x.ask === '100.01'));
    assert.deepEqual([t.last, t.open, t.high, t.low, t.change, t.bid], ['100.01', '100.00', '100.01', '100.00', '0.01', null]);
    // What the channel said last is what REST says now.
    const rest = await taker.ticker(M);
    const { seq: _a, ...restView } = rest;
    const { seq: _b, event: _e, ...lastView } = tickers.at(-1)! as TickerInfo & { event?: string };
    assert.deepEqual(lastView, restView);
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

  it('amends an order as cancel + new signed order, and says so', async () => {
    const placed = await maker.placeOrder(M, { side: 'buy', type: 'limit', price: '95', amount: '1', maxFeeRate: 2_000, clientOrderId: 'amend-1' }, 'result');
    assert.equal(placed.order?.status, 'open');
    const r = await maker.amendOrder(M, { clientOrderId: 'amend-1' }, { side: 'buy', type: 'limit', price: '95.5', amount: '2', maxFeeRate: 2_000, clientOrderId: 'amend-2' }, 'result');
    assert.equal(r.method, 'cancel-replace');
    assert.deepEqual([r.canceled.id, r.canceled.status], [placed.id, 'canceled']);
    assert.notEqual(r.order.id, placed.id);
    assert.deepEqual([r.order.order?.status, r.order.order?.price, r.order.order?.amount], ['open', '95.50', '2.000']);
    // The replaced order cannot be amended again; the new one is the open one.
    await assert.rejects(maker.amendOrder(M, { clientOrderId: 'amend-1' }, { side: 'buy', type: 'limit', price: '95', amount: '1', maxFeeRate: 2_000 }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'ORDER_NOT_FOUND');
    await maker.cancelOrder(M, { clientOrderId: 'amend-2' });
    await until('the cancel', async () => ((await maker.order(M, { clientOrderId: 'amend-2' })).status === 'canceled' ? true : undefined));
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
    const placed = (await s1.call({ op: 'place', order: await maker.signOrder(M, { side: 'buy', type: 'limit', price: '90', amount: '1', maxFeeRate: 2_000, clientOrderId: 'cod-1' }), wait: 'result' })) as { order: { status: string } };
    assert.equal(placed.order.status, 'open');
    s1.close();
    await until('cancel-on-disconnect', async () => ((await maker.order(M, { clientOrderId: 'cod-1' })).status === 'canceled' ? true : undefined));

    const s2 = taker.stream();
    await s2.login();
    // The order first, then the switch: a switch cancels the orders the gateway has seen accepted when it fires
    // (cancelAllFor), and on a loaded machine an order armed-before could still be on its way through risk and
    // the engine after 1 s, then rest forever.
    const dms = (await s2.call({ op: 'place', order: await taker.signOrder(M, { side: 'buy', type: 'limit', price: '91', amount: '1', maxFeeRate: 2_000, clientOrderId: 'dms-1' }), wait: 'result' })) as { order: { status: string } };
    assert.equal(dms.order.status, 'open');
    await s2.call({ op: 'deadman', timeoutMs: 1_000 });
    // No heartbeat: the switch fires, the connection stays open.
    await until('the dead-man switch to cancel dms-1', async () => ((await taker.order(M, { clientOrderId: 'dms-1' })).status === 'canceled' ? true : undefined), SWITCH_WAIT_MS);
    // A fired switch is disarmed, and a ping says so (a bot that is alive arms it again).
    assert.equal(((await s2.call({ op: 'ping' })) as { deadman: boolean }).deadman, false);
    await s2.call({ op: 'deadman', timeoutMs: 60_000 });
    assert.equal(((await s2.call({ op: 'ping' })) as { deadman: boolean }).deadman, true);
    await s2.call({ op: 'deadman', timeoutMs: 0 });
    s2.close();
  });

  it('a dead-man switch fires after its connection is gone (cancel-on-disconnect off), unless a new session disarms it', async () => {
    // A bot crashes with cancel-on-disconnect off: its socket closes, the switch still fires.
    // Each order is placed (and seen open) before its switch is armed: see the test above.
    const crashed = maker.stream();
    await crashed.login();
    await placeOpen(crashed, maker, 'dms-gone', '89');
    await crashed.call({ op: 'deadman', timeoutMs: 1_000 });
    crashed.dropConnection();
    crashed.close();
    await until('the switch of a closed connection to cancel dms-gone', async () => ((await maker.order(M, { clientOrderId: 'dms-gone' })).status === 'canceled' ? true : undefined), SWITCH_WAIT_MS);

    // Armed again, the socket dropped, and the restarted bot disarms it from a new session. The switch must not
    // fire before the new session disarms it (a log-in and one call, nothing through Kafka): it gets a timeout
    // no loaded machine takes for that, and the witness below the same one.
    const before = maker.stream();
    await before.login();
    await placeOpen(before, maker, 'dms-kept', '88');
    await before.call({ op: 'deadman', timeoutMs: DISARMED_SWITCH_MS });
    before.dropConnection();
    before.close();
    const after = maker.stream();
    try {
      await after.login();
      assert.deepEqual(await after.call({ op: 'deadman', timeoutMs: 0 }), { deadmanMs: 0, disarmed: true }, 'the new session disarmed the armed switch (it had not fired yet)');
      // A witness armed later with the same timeout: once it has fired, the disarmed switch would have fired
      // first. Then a new order of the maker answered by the engine comes after any cancel it would have sent.
      const witness = taker.stream();
      await witness.login();
      await placeOpen(witness, taker, 'dms-witness', '87');
      await witness.call({ op: 'deadman', timeoutMs: DISARMED_SWITCH_MS });
      witness.close();
      await until('the witness switch to cancel dms-witness', async () => ((await taker.order(M, { clientOrderId: 'dms-witness' })).status === 'canceled' ? true : undefined), DISARMED_SWITCH_MS + SWITCH_WAIT_MS);
      const probe = await maker.placeOrder(M, { side: 'buy', type: 'limit', price: '86', amount: '1', maxFeeRate: 2_000, clientOrderId: 'dms-probe' }, 'result');
      assert.equal(probe.order?.status, 'open');
      assert.equal((await maker.order(M, { clientOrderId: 'dms-kept' })).status, 'open', 'the disarmed switch did not fire');
      // Cleaned up before the next test reads the book.
      await maker.cancelOrders([{ symbol: M, clientOrderId: 'dms-kept' }, { symbol: M, clientOrderId: 'dms-probe' }]);
      for (const clientOrderId of ['dms-kept', 'dms-probe']) {
        await until(`the cancel of ${clientOrderId}`, async () => ((await maker.order(M, { clientOrderId })).status === 'canceled' ? true : undefined));
      }
    } finally {
      after.close();
    }
  });

  it('refuses an unfunded trader\'s order at its risk shard with INSUFFICIENT_FUNDS, through REST and the WebSocket', async () => {
    const broke = new ParallaxClient({ url: exchange.gatewayUrl, account: localTraderAccount('api-e2e', 3) });
    const before = await taker.book(M);
    const r = await broke.placeOrder(M, { side: 'buy', type: 'limit', price: '100.01', amount: '1', maxFeeRate: 2_000, clientOrderId: 'broke-1' }, 'result');
    assert.equal(r.result, 'answered');
    assert.equal(r.order?.status, 'rejected');
    assert.equal(r.order.reason, 'INSUFFICIENT_FUNDS');
    assert.equal((await broke.order(M, { clientOrderId: 'broke-1' })).reason, 'INSUFFICIENT_FUNDS');
    assert.deepEqual((await broke.closedOrders(M)).map((o) => [o.clientOrderId, o.status, o.reason]), [['broke-1', 'rejected', 'INSUFFICIENT_FUNDS']]);

    const s = broke.stream();
    try {
      await s.login();
      const updates: Record<string, unknown>[] = [];
      s.on((msg) => {
        if (msg['event'] === 'order') updates.push(msg['order'] as Record<string, unknown>);
      });
      await s.subscribe('orders');
      const placed = (await s.call({ op: 'place', order: await broke.signOrder(M, { side: 'sell', type: 'limit', price: '99', amount: '1', maxFeeRate: 2_000, clientOrderId: 'broke-2' }), wait: 'result' })) as { order: { status: string; reason: string } };
      assert.deepEqual([placed.order.status, placed.order.reason], ['rejected', 'INSUFFICIENT_FUNDS']);
      await until('the order channel', () => (updates.some((o) => o['clientOrderId'] === 'broke-2' && o['reason'] === 'INSUFFICIENT_FUNDS') ? true : undefined));
    } finally {
      s.close();
    }
    // Neither order reached the book: it is unchanged, and no trade happened.
    const after = await taker.book(M);
    assert.deepEqual([after.bids, after.asks], [before.bids, before.asks]);
  });

  it('trades with a trading key the wallet authorized; a revoked key and another account\'s key are refused', async () => {
    const wallet = localTraderAccount('api-e2e', 4);
    const key = localTraderAccount('api-e2e', 5);
    const stranger = localTraderAccount('api-e2e', 6);
    await fundThroughRisk(exchange, [wallet.address, stranger.address], {}, brokers);
    const bot = new ParallaxClient({ url: exchange.gatewayUrl, account: key, trader: wallet.address });
    // Not authorized yet: the gateway refuses the key's signature.
    await assert.rejects(bot.placeOrder(M, { side: 'buy', type: 'limit', price: '80', amount: '1', maxFeeRate: 2_000 }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH');
    // The chain watcher's KeyAuthorized event (written here, as the watcher would after the confirmation depth).
    const account = wallet.address.toLowerCase() as Address;
    const k = key.address.toLowerCase() as Address;
    await publish(exchange, [{ type: 'keyAuthorized', account, key: k }], brokers);
    const placed = await until('the key authorization', async () => {
      try {
        return await bot.placeOrder(M, { side: 'buy', type: 'limit', price: '80', amount: '1', maxFeeRate: 2_000, clientOrderId: 'key-1' }, 'result');
      } catch (e) {
        if (e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH') return undefined;
        throw e;
      }
    });
    assert.deepEqual([placed.result, placed.order?.status, placed.order?.trader], ['answered', 'open', account]);
    // The key reads the wallet's orders (a Login signed by the key) and trades against the book.
    assert.deepEqual((await bot.openOrders(M)).map((o) => o.clientOrderId), ['key-1']);
    await bot.cancelOrder(M, { clientOrderId: 'key-1' });
    await until('the key\'s cancel', async () => ((await bot.order(M, { clientOrderId: 'key-1' })).status === 'canceled' ? true : undefined));

    // Another account's key cannot act for the wallet, even when authorized by its own account.
    const strangerKey = new ParallaxClient({ url: exchange.gatewayUrl, account: key, trader: stranger.address });
    await assert.rejects(strangerKey.placeOrder(M, { side: 'buy', type: 'limit', price: '80', amount: '1', maxFeeRate: 2_000 }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH');
    const impostor = new ParallaxClient({ url: exchange.gatewayUrl, account: stranger, trader: wallet.address });
    await assert.rejects(impostor.placeOrder(M, { side: 'buy', type: 'limit', price: '80', amount: '1', maxFeeRate: 2_000 }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH');

    // Revoked: the risk shard refuses the key's orders (NOT_AUTHORIZED), then the gateway its signatures too.
    await publish(exchange, [{ type: 'keyRevoked', account, key: k }], brokers);
    const refused = await until('the revocation', async () => {
      try {
        const r = await bot.placeOrder(M, { side: 'buy', type: 'limit', price: '80', amount: '1', maxFeeRate: 2_000 }, 'result');
        return r.order?.status === 'rejected' ? (r.order.reason ?? 'none') : undefined;
      } catch (e) {
        if (e instanceof ParallaxApiError && e.code === 'SIGNER_MISMATCH') return 'SIGNER_MISMATCH';
        throw e;
      }
    });
    assert.ok(['NOT_AUTHORIZED', 'SIGNER_MISMATCH'].includes(refused), refused);
    assert.deepEqual(await bot.openOrders(M).catch(() => []), []);
  });

  it('refuses a gateway that signs for another deployment (the SDK pins chain id and contract)', async () => {
    const domain = await taker.domain();
    const pinned = new ParallaxClient({ url: exchange.gatewayUrl, account: localTraderAccount('api-e2e', 7), expectedDomain: { chainId: domain.chainId + 1, verifyingContract: domain.verifyingContract } });
    await assert.rejects(pinned.placeOrder(M, { side: 'buy', type: 'limit', price: '80', amount: '1', maxFeeRate: 2_000 }), (e: unknown) => e instanceof ParallaxApiError && e.code === 'DOMAIN_MISMATCH');
    const right = new ParallaxClient({ url: exchange.gatewayUrl, expectedDomain: { chainId: domain.chainId, verifyingContract: domain.verifyingContract } });
    assert.ok((await right.markets()).length > 0);
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
    // Each of those fills reports its settlement (the settlement service's tables): settled, in a batch whose
    // transaction and gas share it names, the same for both sides of a trade.
    const settledFills = async (c: typeof taker): Promise<FillInfo[] | undefined> => {
      const fills = (await c.fills(M)).filter((f) => (f.price === '100.00' && f.amount === '1.000') || (f.price === '100.01' && f.amount === '0.500'));
      return fills.length === 2 && fills.every((f) => f.settlement?.status === 'settled') ? fills : undefined;
    };
    const takerFills = await until("the taker's fills settled in the API", () => settledFills(taker), 60_000);
    const makerFills = await until("the maker's fills settled in the API", () => settledFills(maker), 60_000);
    for (const f of takerFills) {
      assert.match(f.settlement?.txHash ?? '', /^0x[0-9a-f]{64}$/);
      assert.ok(BigInt(f.settlement?.gasShare ?? '0') > 0n, 'a gas share');
      assert.deepEqual(makerFills.find((m) => m.id === f.id)?.settlement, f.settlement, `trade ${f.id}: both sides in the same batch`);
    }
    // The read model (the projector's replay of the risk ledger) agrees with the vault once it has seen the
    // settlement, for both traders and both tokens, and lists each trader's deposits once.
    for (const c of [maker, taker]) {
      let last = '';
      await until(`${c.trader}'s balances in the read model`, async () => {
        const rows = await c.balances();
        for (const token of [base, quote]) {
          const row = rows.find((r) => r.token.toLowerCase() === token.toLowerCase());
          const vault = await balance(token, c.trader);
          last = `${token}: read model ${JSON.stringify(row)}, vault ${vault}`;
          if (row === undefined || BigInt(row.onchain) !== vault) return undefined;
        }
        return true;
      }, 60_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; last seen ${last}`);
      });
      const deposits = (await c.transfers()).filter((t) => t.kind === 'DEPOSIT');
      assert.equal(new Set(deposits.map((t) => t.id)).size, deposits.length, 'each deposit once');
      assert.ok(deposits.length >= 1);
    }
  });
});
