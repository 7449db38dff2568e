// The CCXT exchange class against the running single-machine stack: every unified method a bot uses, with
// each answer checked against CCXT's structure conventions (the fields and invariants ccxt's own structure
// tests demand of markets, tickers, order books, trades, orders and OHLCV rows).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@parallax/observability';
import { parallax } from '@parallax/sdk';
import { AuthenticationError, InsufficientFunds, NotSupported, OrderNotFound, type Market, type Order, type OrderBook, type Trade } from 'ccxt';
import { encodePacked, keccak256 } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';
import { fundThroughRisk, publish } from './testing/fund.js';

const SYMBOL = 'M1/USDC';
const keyOf = (id: number): `0x${string}` => keccak256(encodePacked(['string', 'uint64'], ['ccxt-e2e', BigInt(id)]));
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function checkMarket(m: NonNullable<Market>): void {
  assert.equal(typeof m.id, 'string');
  assert.equal(m.symbol, `${m.base}/${m.quote}`);
  assert.equal(m.type, 'spot');
  assert.equal(m.spot, true);
  assert.equal(m.contract, false);
  assert.ok(typeof m.precision.amount === 'number' && m.precision.amount > 0);
  assert.ok(typeof m.precision.price === 'number' && m.precision.price > 0);
  assert.ok(typeof m.limits.amount?.min === 'number' && m.limits.amount.min > 0);
  assert.ok(typeof m.taker === 'number' && typeof m.maker === 'number');
}

function checkOrderBook(b: OrderBook, symbol: string): void {
  assert.equal(b.symbol, symbol);
  assert.equal(typeof b.nonce, 'number');
  for (let i = 1; i < b.bids.length; i++) assert.ok(b.bids[i]![0]! < b.bids[i - 1]![0]!, 'bids descending');
  for (let i = 1; i < b.asks.length; i++) assert.ok(b.asks[i]![0]! > b.asks[i - 1]![0]!, 'asks ascending');
  if (b.bids.length > 0 && b.asks.length > 0) assert.ok(b.bids[0]![0]! < b.asks[0]![0]!, 'not crossed');
  for (const [p, a] of [...b.bids, ...b.asks]) assert.ok(p! > 0 && a! > 0);
}

function checkTrade(t: Trade, symbol: string): void {
  assert.equal(typeof t.id, 'string');
  assert.equal(t.symbol, symbol);
  assert.ok(Number.isInteger(t.timestamp));
  assert.match(t.datetime!, ISO);
  assert.ok(t.side === 'buy' || t.side === 'sell');
  assert.ok(t.price! > 0 && t.amount! > 0);
  assert.ok(Math.abs(t.cost! - t.price! * t.amount!) < 1e-9 * t.cost!);
}

function checkOrder(o: Order, symbol: string): void {
  assert.equal(typeof o.id, 'string');
  assert.equal(o.symbol, symbol);
  assert.ok(Number.isInteger(o.timestamp));
  assert.match(o.datetime!, ISO);
  assert.ok(['open', 'closed', 'canceled', 'expired', 'rejected'].includes(o.status!));
  assert.ok(o.side === 'buy' || o.side === 'sell');
  assert.ok(o.type === 'limit' || o.type === 'market');
  assert.ok(o.amount! >= o.filled! && o.filled! >= 0);
  if (o.status === 'open') assert.ok(Math.abs(o.remaining! - (o.amount! - o.filled!)) < 1e-12);
  if (o.status === 'closed') assert.equal(o.filled, o.amount);
}

describe('CCXT exchange class on the running stack', () => {
  let exchange: RunningExchange;
  let maker: parallax;
  let taker: parallax;

  before(async () => {
    const config = loadExchangeConfig({ PARTITIONS: '2', MARKETS: '2', EXCHANGE_ENGINES: '1', GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', EXCHANGE_SETTLEMENT: 'false' });
    exchange = await startExchange(config, createLogger('ccxt-e2e', 'silent'));
    maker = new parallax({ privateKey: keyOf(1), options: { url: exchange.gatewayUrl } });
    taker = new parallax({ privateKey: keyOf(2), options: { url: exchange.gatewayUrl } });
    await fundThroughRisk(exchange, [privateKeyToAccount(keyOf(1)).address, privateKeyToAccount(keyOf(2)).address]);
  });
  after(async () => {
    await maker.close();
    await taker.close();
    await exchange.close();
  });

  it('loads markets with precision and limits', async () => {
    const markets = await maker.loadMarkets();
    assert.deepEqual(Object.keys(markets).sort(), ['M1/USDC', 'M2/USDC']);
    for (const m of Object.values(markets)) checkMarket(m!);
    assert.equal(markets[SYMBOL]!.id, 'M1-USDC');
  });

  it('creates, fetches, edits and cancels orders; trades; books; candles; my trades', async () => {
    const ask = await maker.createOrder(SYMBOL, 'limit', 'sell', 2, 101.5, { clientOrderId: 'mk-1' });
    checkOrder(ask, SYMBOL);
    assert.equal(ask.status, 'open');
    assert.equal(ask.clientOrderId, 'mk-1');
    const [bid1, bid2] = await maker.createOrders([
      { symbol: SYMBOL, type: 'limit', side: 'buy', amount: 1, price: 99 },
      { symbol: SYMBOL, type: 'limit', side: 'buy', amount: 1, price: 98.5 },
    ]);
    checkOrder(bid1!, SYMBOL);
    checkOrder(bid2!, SYMBOL);

    const book = await taker.fetchOrderBook(SYMBOL);
    checkOrderBook(book, SYMBOL);
    assert.deepEqual(book.asks, [[101.5, 2]]);
    assert.deepEqual(book.bids, [[99, 1], [98.5, 1]]);

    // A market buy with its protection price: takes 0.5 of the ask.
    const buy = await taker.createOrder(SYMBOL, 'market', 'buy', 0.5, 102);
    checkOrder(buy, SYMBOL);
    assert.equal(buy.status, 'closed');
    assert.equal(buy.average, 101.5);

    const trades = await taker.fetchTrades(SYMBOL);
    assert.equal(trades.length, 1);
    checkTrade(trades[0]!, SYMBOL);
    const mine = await maker.fetchMyTrades(SYMBOL);
    assert.deepEqual(mine.map((t) => [t.side, t.takerOrMaker, t.price, t.amount, t.order]), [['sell', 'maker', 101.5, 0.5, ask.id]]);
    const theirs = await taker.fetchMyTrades(SYMBOL);
    assert.deepEqual(theirs.map((t) => [t.side, t.takerOrMaker]), [['buy', 'taker']]);

    const ticker = await taker.fetchTicker(SYMBOL);
    assert.equal(ticker.symbol, SYMBOL);
    assert.equal(ticker.bid, 99);
    assert.equal(ticker.ask, 101.5);
    assert.equal(ticker.last, 101.5);
    const ohlcv = await taker.fetchOHLCV(SYMBOL, '1m');
    assert.equal(ohlcv.length, 1);
    const [ts, o, h, l, c, v] = ohlcv[0]!;
    assert.ok(Number.isInteger(ts) && ts! % 60_000 === 0);
    assert.deepEqual([o, h, l, c, v], [101.5, 101.5, 101.5, 101.5, 0.5]);

    const fetched = await maker.fetchOrder(ask.id!, SYMBOL);
    assert.equal(fetched.filled, 0.5);
    assert.equal(fetched.remaining, 1.5);
    await assert.rejects(taker.fetchOrder(ask.id!, SYMBOL), OrderNotFound);
    await assert.rejects(taker.cancelOrder(ask.id!, SYMBOL), OrderNotFound);

    // editOrder: cancel + new signed order (a new id).
    const edited = await maker.editOrder(bid1!.id!, SYMBOL, 'limit', 'buy', 1, 99.25);
    checkOrder(edited, SYMBOL);
    assert.notEqual(edited.id, bid1!.id);
    assert.equal(edited.price, 99.25);

    await maker.cancelOrder(bid2!.id!, SYMBOL);
    const waitFor = async (f: () => Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!(await f())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor(async () => (await maker.fetchOpenOrders(SYMBOL)).length === 2);
    const open = await maker.fetchOpenOrders(SYMBOL);
    for (const x of open) checkOrder(x, SYMBOL);
    assert.deepEqual(open.map((x) => x.price).sort(), [101.5, 99.25].sort());

    await maker.cancelAllOrders(SYMBOL);
    await waitFor(async () => (await maker.fetchOpenOrders()).length === 0);
    const closed = await maker.fetchClosedOrders(SYMBOL);
    for (const x of closed) checkOrder(x, SYMBOL);
    assert.equal(closed.length, 4);
    assert.ok(closed.every((x) => x.status === 'canceled'));
  });

  it('watches the order book, trades, orders and my trades over the WebSocket', async () => {
    const firstBook = await taker.watchOrderBook(SYMBOL);
    checkOrderBook(firstBook, SYMBOL);
    const nextBook = taker.watchOrderBook(SYMBOL);
    const tradesP = taker.watchTrades(SYMBOL);
    const ordersP = maker.watchOrders(SYMBOL);
    const myTradesP = maker.watchMyTrades(SYMBOL);
    await new Promise((r) => setTimeout(r, 300));
    await maker.createOrder(SYMBOL, 'limit', 'sell', 1, 100);
    const order = (await ordersP)[0]!;
    checkOrder(order, SYMBOL);
    const book = await nextBook;
    assert.deepEqual(book.asks[0], [100, 1]);
    await taker.createOrder(SYMBOL, 'limit', 'buy', 1, 100);
    const [trade] = await tradesP;
    checkTrade(trade!, SYMBOL);
    const [fill] = await myTradesP;
    assert.equal(fill!.takerOrMaker, 'maker');
  });

  it('trades with a trading key (privateKey = the key, walletAddress = the wallet) and raises InsufficientFunds for an unfunded account', async () => {
    const wallet = privateKeyToAccount(keyOf(3));
    const key = privateKeyToAccount(keyOf(4));
    await fundThroughRisk(exchange, [wallet.address]);
    const bot = new parallax({ privateKey: keyOf(4), walletAddress: wallet.address, options: { url: exchange.gatewayUrl } });
    const broke = new parallax({ privateKey: keyOf(5), options: { url: exchange.gatewayUrl } });
    try {
      await bot.loadMarkets();
      await assert.rejects(bot.createOrder(SYMBOL, 'limit', 'buy', 1, 90), AuthenticationError);
      await publish(exchange, [{ type: 'keyAuthorized', account: wallet.address.toLowerCase() as `0x${string}`, key: key.address.toLowerCase() as `0x${string}` }]);
      let order: Order | undefined;
      for (let i = 0; i < 100 && order === undefined; i++) {
        order = await bot.createOrder(SYMBOL, 'limit', 'buy', 1, 90, { clientOrderId: 'bot-1' }).catch((e: unknown) => {
          if (e instanceof AuthenticationError) return new Promise<undefined>((r) => setTimeout(() => { r(undefined); }, 50));
          throw e;
        });
      }
      assert.ok(order, 'the key was authorized');
      checkOrder(order, SYMBOL);
      assert.equal(order.status, 'open');
      assert.equal((order.info as { trader: string }).trader, wallet.address.toLowerCase());
      assert.deepEqual((await bot.fetchOpenOrders(SYMBOL)).map((o) => o.clientOrderId), ['bot-1']);
      await bot.cancelOrder(order.id!, SYMBOL);

      await broke.loadMarkets();
      await assert.rejects(broke.createOrder(SYMBOL, 'limit', 'buy', 1, 90), InsufficientFunds);
    } finally {
      await bot.close();
      await broke.close();
    }
  });

  it('says plainly what the gateway does not serve', async () => {
    await assert.rejects(maker.fetchBalance(), NotSupported);
  });
});
