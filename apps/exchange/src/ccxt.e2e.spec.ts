// The CCXT exchange class against the running single-machine stack: every unified method a bot uses, with
// each answer checked against CCXT's structure conventions (the fields and invariants ccxt's own structure
// tests demand of markets, tickers, order books, trades, orders, OHLCV rows and balances).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@parallax/observability';
import { parallax, type MarketInfo } from '@parallax/sdk';
import { AuthenticationError, InsufficientFunds, OrderNotFound, type Balances, type Market, type OHLCV, type Order, type OrderBook, type Ticker, type Trade } from 'ccxt';
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

/** CCXT's ticker conventions: symbol, time, bid <= ask, high >= low, change and percentage from open and last. */
function checkTicker(t: Ticker, symbol: string): void {
  assert.equal(t.symbol, symbol);
  if (t.timestamp !== undefined) {
    assert.ok(Number.isInteger(t.timestamp));
    assert.match(t.datetime!, ISO);
  }
  if (t.bid !== undefined && t.ask !== undefined) assert.ok(t.bid < t.ask, 'bid < ask');
  if (t.high !== undefined && t.low !== undefined) assert.ok(t.high >= t.low && t.last! >= t.low && t.last! <= t.high);
  assert.ok(t.baseVolume! >= 0);
  if (t.open !== undefined && t.last !== undefined) {
    assert.ok(Math.abs(t.change! - (t.last - t.open)) < 1e-9);
    assert.ok(Math.abs(t.percentage! - ((t.last - t.open) / t.open) * 100) < 1e-9);
  }
}

/** CCXT's OHLCV rows: [ms, o, h, l, c, v], ascending, low <= open, close <= high. */
function checkOhlcv(rows: OHLCV[]): void {
  for (let i = 0; i < rows.length; i++) {
    const [ts, o, h, l, c, v] = rows[i]! as number[];
    assert.ok(Number.isInteger(ts) && ts! % 60_000 === 0);
    if (i > 0) assert.ok(ts! > (rows[i - 1]![0] as number), 'ascending');
    assert.ok(l! <= o! && l! <= c! && o! <= h! && c! <= h! && v! >= 0);
  }
}

/** CCXT's balance structure: per code { free, used, total } mirrored in the free/used/total maps, total = free + used. */
function checkBalance(b: Balances, codes: readonly string[]): void {
  assert.ok(b.info !== undefined, 'info');
  const entries = Object.keys(b).filter((k) => !['info', 'timestamp', 'datetime', 'free', 'used', 'total', 'debt'].includes(k));
  assert.deepEqual(entries.sort(), [...codes].sort());
  for (const code of entries) {
    const e = b[code] as unknown as { free: number; used: number; total: number };
    for (const k of ['free', 'used', 'total'] as const) {
      assert.equal(typeof e[k], 'number', `${code}.${k}`);
      assert.ok(e[k] >= 0, `${code}.${k} >= 0`);
      assert.equal((b[k] as unknown as Record<string, number>)[code], e[k], `${k}[${code}]`);
    }
    assert.ok(Math.abs(e.total - (e.free + e.used)) <= 1e-9 * Math.max(1, e.total), `${code}: total = free + used`);
  }
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

  it('watches the order book, trades, orders, my trades, the ticker and candles over the WebSocket', async () => {
    const firstBook = await taker.watchOrderBook(SYMBOL);
    checkOrderBook(firstBook, SYMBOL);
    // The first watch of a ticker or candles answers with the subscription's snapshot; later ones with changes.
    checkTicker(await taker.watchTicker(SYMBOL), SYMBOL);
    const before = await taker.watchOHLCV(SYMBOL, '1m');
    checkOhlcv(before);
    assert.equal(before.at(-1)![4], 101.5, 'the earlier trade');
    const watchUntil = async <T>(watch: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
      for (;;) {
        const v = await watch();
        if (ok(v)) return v;
      }
    };
    const tickerP = watchUntil(() => taker.watchTicker(SYMBOL), (t) => t.last === 100);
    const ohlcvP = watchUntil(() => taker.watchOHLCV(SYMBOL, '1m'), (rows) => rows.at(-1)![4] === 100);
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
    const ticker = await tickerP;
    checkTicker(ticker, SYMBOL);
    assert.deepEqual([ticker.last, ticker.open, ticker.high, ticker.low, ticker.baseVolume], [100, 101.5, 101.5, 100, 1.5]);
    assert.equal(ticker.change, -1.5);
    const rows = await ohlcvP;
    checkOhlcv(rows);
    const fetched = await taker.fetchOHLCV(SYMBOL, '1m');
    assert.deepEqual(rows.slice(-fetched.length), fetched, 'the watched candles are the fetched ones');
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

  it('fetches balances in the unified structure: amounts in token decimals, orders\' holds as used', async () => {
    const wallet = privateKeyToAccount(keyOf(6));
    await fundThroughRisk(exchange, [wallet.address]);
    const bot = new parallax({ privateKey: keyOf(6), options: { url: exchange.gatewayUrl } });
    try {
      const markets = await bot.loadMarkets();
      // /v1/markets says each token's decimals (the local chain's: 18, 8 and 6).
      const info = (symbol: string): MarketInfo => markets[symbol]!.info as MarketInfo;
      assert.deepEqual([info(SYMBOL).baseDecimals, info(SYMBOL).quoteDecimals, info('M2/USDC').baseDecimals], [18, 6, 8]);
      const waitBalance = async (ok: (b: Balances) => boolean): Promise<Balances> => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const b = await bot.fetchBalance();
          if (ok(b)) return b;
          if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(b.total)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      // The deposits (DEFAULT_DEPOSITS: 1e24 BASE units, 1e16 ALT, 1e15 QUOTE) as amounts.
      const of = (b: Balances, k: 'free' | 'used' | 'total', code: string): number | undefined => (b[k] as unknown as Record<string, number> | undefined)?.[code];
      const funded = await waitBalance((b) => of(b, 'total', 'USDC') === 1e9);
      checkBalance(funded, ['M1', 'M2', 'USDC']);
      assert.deepEqual([funded['M1'], funded['M2'], funded['USDC']], [
        { free: 1e6, used: 0, total: 1e6 },
        { free: 1e8, used: 0, total: 1e8 },
        { free: 1e9, used: 0, total: 1e9 },
      ]);
      // A resting buy holds what it can cost (this deployment's fee rates are 0: the price times the amount):
      // used, not free; the total stays.
      await bot.createOrder(SYMBOL, 'limit', 'buy', 2, 50, { maxFeeRate: 1_000 });
      const held = await waitBalance((b) => (of(b, 'used', 'USDC') ?? 0) > 0);
      checkBalance(held, ['M1', 'M2', 'USDC']);
      assert.deepEqual(held['USDC'], { free: 999_999_900, used: 100, total: 1e9 });
      await bot.cancelAllOrders(SYMBOL);
      const released = await waitBalance((b) => of(b, 'used', 'USDC') === 0);
      assert.deepEqual(released['USDC'], { free: 1e9, used: 0, total: 1e9 });
    } finally {
      await bot.close();
    }
  });
});
