// Parallax as a CCXT exchange class (ccxt 4.5): a CCXT-based bot trades on Parallax by constructing this class
// instead of another exchange's. Responses go through CCXT's own safe* builders, so they have CCXT's unified
// structures (orders, trades, order books, tickers, markets with precision and limits). Symbols are CCXT's
// BASE/QUOTE; the signing key is CCXT's `privateKey` credential (the wallet's key, or a trading key the wallet
// authorized on chain, then with the wallet as CCXT's `walletAddress`), the gateway URL `options.url`.
// Requests go through the Parallax SDK (it signs every order and cancel), not through CCXT's HTTP signer.
import { BadSymbol, Exchange, OrderNotFound, InvalidOrder, InsufficientFunds, BadRequest, RateLimitExceeded, AuthenticationError, ExchangeError } from 'ccxt';
import type { Balances, Dict, Int, Market, Num, OHLCV, Order, OrderBook, OrderRequest, OrderSide, OrderType, Str, Ticker, Trade } from 'ccxt';
import { formatUnits, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ParallaxApiError, ParallaxClient, type CandleRow, type FillInfo, type MarketInfo, type OrderInfo, type TickerInfo, type ParallaxStream, type TradeInfo } from '../client.js';

const STATUS: Readonly<Record<OrderInfo['status'], string>> = { open: 'open', filled: 'closed', canceled: 'canceled', expired: 'expired', rejected: 'rejected' };

export class parallax extends Exchange {
  private sdk: ParallaxClient | undefined;
  private ws: ParallaxStream | undefined;
  /** Channels subscribed on `ws` by watchTicker / watchOHLCV, and the OHLCV caches by channel. */
  private readonly subscribed = new Set<string>();
  private readonly ohlcv = new Map<string, Map<number, OHLCV>>();

  override describe(): Dict {
    return this.deepExtend(super.describe(), {
      id: 'parallax',
      name: 'Parallax',
      version: 'v1',
      pro: true,
      requiredCredentials: { apiKey: false, secret: false, privateKey: true, walletAddress: false },
      has: {
        CORS: undefined,
        spot: true,
        margin: false,
        swap: false,
        future: false,
        option: false,
        fetchMarkets: true,
        fetchTicker: true,
        fetchOrderBook: true,
        fetchTrades: true,
        fetchOHLCV: true,
        fetchBalance: true,
        createOrder: true,
        createOrders: true,
        cancelOrder: true,
        cancelOrders: true,
        cancelAllOrders: true,
        editOrder: true,
        fetchOrder: true,
        fetchOpenOrders: true,
        fetchClosedOrders: true,
        fetchMyTrades: true,
        watchOrderBook: true,
        watchTicker: true,
        watchOHLCV: true,
        watchTrades: true,
        watchOrders: true,
        watchMyTrades: true,
      },
      timeframes: { '1m': '1m', '5m': '5m', '15m': '15m', '1h': '1h', '4h': '4h', '1d': '1d' },
      options: { url: 'http://127.0.0.1:3000', maxFeeRate: 2_000, orderLifetimeSeconds: 86_400, immediateOrderLifetimeSeconds: 60 },
    }) as Dict;
  }

  private sdkClient(): ParallaxClient {
    if (this.sdk === undefined) {
      const key = this.privateKey;
      const account = typeof key === 'string' && key.length > 0 ? privateKeyToAccount(key as Hex) : undefined;
      const wallet = typeof this.walletAddress === 'string' && /^0x[0-9a-fA-F]{40}$/.test(this.walletAddress) ? (this.walletAddress as Hex) : undefined;
      const url = String(this.options['url']);
      this.sdk = new ParallaxClient(account === undefined ? { url } : wallet === undefined ? { url, account } : { url, account, trader: wallet });
    }
    return this.sdk;
  }

  /** Runs an SDK call, mapping the gateway's stable error codes onto CCXT's error classes. */
  private async call<T>(f: (c: ParallaxClient) => Promise<T>): Promise<T> {
    try {
      return await f(this.sdkClient());
    } catch (e) {
      if (!(e instanceof ParallaxApiError)) throw e;
      const msg = `${this.id} ${e.message}`;
      if (e.code === 'ORDER_NOT_FOUND') throw new OrderNotFound(msg);
      if (e.code === 'RATE_LIMITED') throw new RateLimitExceeded(msg);
      if (['INVALID_SIGNATURE', 'SIGNER_MISMATCH', 'SIGNATURE_EXPIRED', 'NOT_LOGGED_IN'].includes(e.code)) throw new AuthenticationError(msg);
      if (['PRICE_OFF_TICK', 'SIZE_OFF_LOT', 'PRICE_NOT_POSITIVE', 'SIZE_NOT_POSITIVE', 'PROTECTION_PRICE_REQUIRED', 'ORDER_EXPIRED', 'DUPLICATE_CLIENT_ORDER_ID'].includes(e.code)) throw new InvalidOrder(msg);
      if (e.status >= 400 && e.status < 500) throw new BadRequest(msg);
      throw new ExchangeError(msg);
    }
  }

  /** The gateway's market id (its symbol, e.g. M1-USDC) of a CCXT symbol (M1/USDC). */
  private idOf(symbol: string): string {
    const id = this.marketId(symbol);
    if (id === undefined) throw new BadSymbol(`${this.id} does not have market symbol ${symbol}`);
    return id;
  }

  override async fetchMarkets(_params: Dict = {}): Promise<Market[]> {
    const markets = await this.call((c) => c.markets());
    return markets.map((m) =>
      this.safeMarketStructure({
        id: m.symbol,
        symbol: `${m.base}/${m.quote}`,
        base: m.base,
        quote: m.quote,
        baseId: m.base,
        quoteId: m.quote,
        type: 'spot',
        spot: true,
        margin: false,
        swap: false,
        future: false,
        option: false,
        contract: false,
        active: m.status === 'open',
        maker: m.makerFeeRate,
        taker: m.takerFeeRate,
        precision: { amount: this.parseNumber(m.lotSize), price: this.parseNumber(m.tickSize) },
        limits: {
          amount: { min: this.parseNumber(m.minAmount), max: undefined },
          price: { min: this.parseNumber(m.tickSize), max: undefined },
          cost: { min: this.parseNumber(m.minNotional), max: undefined },
          leverage: { min: undefined, max: undefined },
        },
        info: m,
      }),
    );
  }

  private toOrder(o: OrderInfo): Order {
    const market = this.safeMarket(o.market);
    return this.safeOrder(
      {
        id: o.id,
        clientOrderId: o.clientOrderId ?? undefined,
        timestamp: o.timestamp,
        datetime: this.iso8601(o.timestamp),
        lastUpdateTimestamp: o.lastUpdateTimestamp,
        symbol: market.symbol,
        type: o.type,
        timeInForce: o.timeInForce,
        postOnly: undefined,
        side: o.side,
        price: this.parseNumber(o.price),
        amount: this.parseNumber(o.amount),
        filled: this.parseNumber(o.filled),
        remaining: this.parseNumber(o.remaining),
        average: o.average === null ? undefined : this.parseNumber(o.average),
        status: STATUS[o.status],
        trades: [],
        fee: undefined,
        info: o,
      },
      market,
    );
  }

  private toTrade(t: TradeInfo | FillInfo): Trade {
    const market = this.safeMarket(t.market);
    const fill = 'orderId' in t ? t : undefined;
    return this.safeTrade(
      {
        id: t.id,
        order: fill?.orderId,
        timestamp: t.timestamp,
        datetime: this.iso8601(t.timestamp),
        symbol: market.symbol,
        type: undefined,
        side: t.side,
        takerOrMaker: fill?.takerOrMaker,
        price: this.parseNumber(t.price),
        amount: this.parseNumber(t.amount),
        info: t,
      },
      market,
    );
  }

  private toTicker(t: TickerInfo, symbol: string): Ticker {
    const num = (v: string | null): number | undefined => (v === null ? undefined : this.parseNumber(v));
    return this.safeTicker(
      {
        symbol,
        timestamp: t.timestamp ?? undefined,
        datetime: t.timestamp === null ? undefined : this.iso8601(t.timestamp),
        bid: num(t.bid),
        bidVolume: num(t.bidVolume),
        ask: num(t.ask),
        askVolume: num(t.askVolume),
        last: num(t.last),
        close: num(t.last),
        // Rolling 24 h: CCXT derives change and percentage from open and last.
        open: num(t.open),
        high: num(t.high),
        low: num(t.low),
        baseVolume: this.parseNumber(t.baseVolume),
        info: t,
      },
      this.market(symbol),
    );
  }

  override async fetchTicker(symbol: string, _params: Dict = {}): Promise<Ticker> {
    await this.loadMarkets();
    return this.toTicker(await this.call((c) => c.ticker(this.idOf(symbol))), symbol);
  }

  override async fetchOrderBook(symbol: string, limit?: Int, _params: Dict = {}): Promise<OrderBook> {
    await this.loadMarkets();
    const b = await this.call((c) => c.book(this.idOf(symbol), limit ?? 50));
    const book = this.parseOrderBook(b, symbol, undefined, 'bids', 'asks', 0, 1);
    book.nonce = b.seq;
    return book;
  }

  override async fetchTrades(symbol: string, since?: Int, limit?: Int, _params: Dict = {}): Promise<Trade[]> {
    await this.loadMarkets();
    const trades = await this.call((c) => c.trades(this.idOf(symbol), 1_000));
    return this.filterBySinceLimit(trades.map((t) => this.toTrade(t)), since, limit) as Trade[];
  }

  override async fetchOHLCV(symbol: string, timeframe = '1m', since?: Int, limit?: Int, _params: Dict = {}): Promise<OHLCV[]> {
    await this.loadMarkets();
    const rows = await this.call((c) => c.candles(this.idOf(symbol), timeframe, since ?? 0, limit ?? 500));
    return rows.map((r) => this.toOhlcv(r));
  }

  private toOhlcv(r: CandleRow): OHLCV {
    return [r[0], this.parseNumber(r[1]), this.parseNumber(r[2]), this.parseNumber(r[3]), this.parseNumber(r[4]), this.parseNumber(r[5])] as OHLCV;
  }

  /**
   * The account's balances per currency from GET /v1/account/balances (the risk ledger as the read model last
   * projected it): free = available, used = held by open orders and pending withdrawals, total = free + used
   * (= on chain + unsettled fills, fees apart). Token base units become amounts with the token's ERC-20
   * decimals from GET /v1/markets. A token several markets trade under different names (the demo's test
   * tokens) appears under each name with the same funds; `info` has the rows by token address.
   */
  override async fetchBalance(_params: Dict = {}): Promise<Balances> {
    await this.loadMarkets();
    const rows = await this.call((c) => c.balances());
    const tokens = new Map<string, { codes: Set<string>; decimals: number | null }>();
    const add = (token: string, code: string, decimals: number | null): void => {
      const key = token.toLowerCase();
      let t = tokens.get(key);
      if (t === undefined) tokens.set(key, (t = { codes: new Set(), decimals }));
      t.codes.add(code);
    };
    for (const m of Object.values(this.markets ?? {}) as (Market | undefined)[]) {
      const info = m?.info as MarketInfo | undefined;
      if (info === undefined) continue;
      add(info.baseToken, info.base, info.baseDecimals);
      add(info.quoteToken, info.quote, info.quoteDecimals);
    }
    const result: Dict = { info: rows };
    for (const r of rows) {
      const t = tokens.get(r.token.toLowerCase());
      // A token no listed market trades has no currency code here; it stays in `info`.
      if (t === undefined) continue;
      if (t.decimals === null) throw new ExchangeError(`${this.id} the gateway does not publish the decimals of token ${r.token}`);
      const free = BigInt(r.available);
      const used = BigInt(r.heldOrders) + BigInt(r.heldWithdrawals);
      for (const code of t.codes) {
        result[code] = { free: formatUnits(free, t.decimals), used: formatUnits(used, t.decimals), total: formatUnits(free + used, t.decimals) };
      }
    }
    return this.safeBalance(result);
  }

  private orderParams(type: OrderType, side: OrderSide, amount: Num, price: Num, params: Dict) {
    if (side !== 'buy' && side !== 'sell') throw new InvalidOrder(`${this.id} side must be buy or sell`);
    if (amount === undefined) throw new InvalidOrder(`${this.id} every order needs an amount`);
    if (price === undefined) throw new InvalidOrder(`${this.id} every order needs a price (a market order's protection price)`);
    const tif: unknown = params['timeInForce'];
    // Market, IOC and FOK orders are signed with a short deadline (the contract's rule: their remainder can
    // never be filled later); resting orders with the longer lifetime.
    const immediate = type === 'market' || tif === 'IOC' || tif === 'FOK';
    const lifetime = Number(this.options[immediate ? 'immediateOrderLifetimeSeconds' : 'orderLifetimeSeconds']);
    const p: Parameters<ParallaxClient['placeOrder']>[1] = {
      side,
      type: type === 'market' ? 'market' : 'limit',
      price: this.numberToString(price),
      amount: this.numberToString(amount),
      maxFeeRate: Number(params['maxFeeRate'] ?? this.options['maxFeeRate']),
      expiry: BigInt(Math.floor(Date.now() / 1000) + lifetime),
      ...(typeof params['clientOrderId'] === 'string' ? { clientOrderId: params['clientOrderId'] } : {}),
      ...(tif === 'IOC' || tif === 'FOK' || tif === 'GTC' ? { timeInForce: tif } : {}),
      ...(params['postOnly'] === true ? { postOnly: true } : {}),
    };
    return p;
  }

  override async createOrder(symbol: string, type: OrderType, side: OrderSide, amount: number, price?: Num, params: Dict = {}): Promise<Order> {
    await this.loadMarkets();
    const r = await this.call((c) => c.placeOrder(this.idOf(symbol), this.orderParams(type, side, amount, price, params), 'result'));
    if (r.order?.status === 'rejected' && r.order.reason === 'INSUFFICIENT_FUNDS') throw new InsufficientFunds(`${this.id} ${r.order.reason}: order ${r.id ?? ''} refused`);
    if (r.order === null) return this.safeOrder({ id: r.id ?? undefined, clientOrderId: r.clientOrderId ?? undefined, symbol, type, side, amount, price, status: 'open', info: r }, this.market(symbol));
    return this.toOrder(r.order);
  }

  override async createOrders(orders: OrderRequest[], _params: Dict = {}): Promise<Order[]> {
    await this.loadMarkets();
    const list = orders.map((o) => ({ symbol: this.idOf(o.symbol), params: this.orderParams(o.type, o.side, o.amount, o.price, (o.params ?? {}) as Dict) }));
    const rs = await this.call((c) => c.placeOrders(list, 'result'));
    return rs.map((r, i) => (r.order === null ? this.safeOrder({ id: r.id ?? undefined, symbol: orders[i]!.symbol, status: 'open', info: r }) : this.toOrder(r.order)));
  }

  override async cancelOrder(id: string, symbol?: Str, params: Dict = {}): Promise<Order> {
    if (symbol === undefined) throw new BadRequest(`${this.id} cancelOrder() requires a symbol`);
    await this.loadMarkets();
    const ref = typeof params['clientOrderId'] === 'string' ? { clientOrderId: params['clientOrderId'] } : { orderId: id };
    const r = await this.call((c) => c.cancelOrder(this.idOf(symbol), ref));
    return this.safeOrder({ id: r.id, symbol, status: 'canceled', info: r }, this.market(symbol));
  }

  override async cancelOrders(ids: string[], symbol?: Str, _params: Dict = {}): Promise<Order[]> {
    if (symbol === undefined) throw new BadRequest(`${this.id} cancelOrders() requires a symbol`);
    await this.loadMarkets();
    const rs = await this.call((c) => c.cancelOrders(ids.map((orderId) => ({ symbol: this.idOf(symbol), orderId }))));
    return rs.map((r) => this.safeOrder({ id: r.id, symbol, status: 'canceled', info: r }, this.market(symbol)));
  }

  override async cancelAllOrders(symbol?: Str, _params: Dict = {}): Promise<Order[]> {
    await this.loadMarkets();
    const open = await this.fetchOpenOrders(symbol);
    await this.call((c) => c.cancelAll(symbol === undefined ? undefined : this.idOf(symbol)));
    return open.map((o) => this.safeOrder({ ...o, status: 'canceled' }));
  }

  /**
   * An amend is a cancel plus a new signed order (the signed price and size cannot change): the answer is the
   * new order, with a new id; the old one is cancelled first.
   */
  override async editOrder(id: string, symbol: string, type: OrderType, side: OrderSide, amount?: Num, price?: Num, params: Dict = {}): Promise<Order> {
    await this.loadMarkets();
    const old = await this.fetchOrder(id, symbol);
    const params2 = this.orderParams(type, side, amount ?? old.remaining ?? 0, price ?? old.price, params);
    // The gateway's amend: the old order's signed cancel and the new signed order in one request.
    const r = await this.call((c) => c.amendOrder(this.idOf(symbol), { orderId: id }, params2, 'result'));
    if (r.order.order === null) return this.safeOrder({ id: r.order.id ?? undefined, symbol, type, side, status: 'open', info: r }, this.market(symbol));
    return this.toOrder(r.order.order);
  }

  override async fetchOrder(id: string, symbol?: Str, params: Dict = {}): Promise<Order> {
    if (symbol === undefined) throw new BadRequest(`${this.id} fetchOrder() requires a symbol`);
    await this.loadMarkets();
    const ref = typeof params['clientOrderId'] === 'string' ? { clientOrderId: params['clientOrderId'] } : { orderId: id };
    return this.toOrder(await this.call((c) => c.order(this.idOf(symbol), ref)));
  }

  override async fetchOpenOrders(symbol?: Str, since?: Int, limit?: Int, _params: Dict = {}): Promise<Order[]> {
    await this.loadMarkets();
    const rows = await this.call((c) => c.openOrders(symbol === undefined ? undefined : this.idOf(symbol)));
    return this.filterBySinceLimit(rows.map((o) => this.toOrder(o)), since, limit) as Order[];
  }

  override async fetchClosedOrders(symbol?: Str, since?: Int, limit?: Int, _params: Dict = {}): Promise<Order[]> {
    await this.loadMarkets();
    const rows = await this.call((c) => c.closedOrders(symbol === undefined ? undefined : this.idOf(symbol)));
    return this.filterBySinceLimit(rows.map((o) => this.toOrder(o)), since, limit) as Order[];
  }

  override async fetchMyTrades(symbol?: Str, since?: Int, limit?: Int, _params: Dict = {}): Promise<Trade[]> {
    await this.loadMarkets();
    const rows = await this.call((c) => c.fills(symbol === undefined ? undefined : this.idOf(symbol)));
    return this.filterBySinceLimit(rows.map((t) => this.toTrade(t)), since, limit) as Trade[];
  }

  // ---- watch*: the gateway's WebSocket, one connection per exchange instance.

  private async stream(login: boolean): Promise<ParallaxStream> {
    if (this.ws === undefined) this.ws = this.sdkClient().stream();
    if (login) await this.ws.login();
    return this.ws;
  }

  private next<T>(s: ParallaxStream, pick: (msg: Record<string, unknown>) => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const off = s.on((msg) => {
        const v = pick(msg);
        if (v !== undefined) {
          off();
          resolve(v);
        }
      });
    });
  }

  /** The local book (snapshot + verified diffs) after its next change. */
  override async watchOrderBook(symbol: string, limit?: Int, _params: Dict = {}): Promise<OrderBook> {
    await this.loadMarkets();
    const id = this.idOf(symbol);
    const s = await this.stream(false);
    const changed = this.next(s, (m) => (m['event'] === 'book' && m['market'] === id ? true : undefined));
    if (s.book(id) === undefined) await s.subscribe('book', id);
    await changed;
    const book = s.book(id)!;
    const top = book.top(limit ?? 50);
    const ob = this.parseOrderBook(top, symbol, undefined, 'bids', 'asks', 0, 1);
    ob.nonce = book.seq;
    return ob;
  }

  override async watchTrades(symbol: string, since?: Int, limit?: Int, _params: Dict = {}): Promise<Trade[]> {
    await this.loadMarkets();
    const id = this.idOf(symbol);
    const s = await this.stream(false);
    const got = this.next(s, (m) => (m['event'] === 'trades' && m['market'] === id ? (m['trades'] as TradeInfo[]) : undefined));
    await s.subscribe('trades', id);
    return this.filterBySinceLimit((await got).map((t) => this.toTrade(t)), since, limit) as Trade[];
  }

  /** The market's ticker after its next change (the first call: the current one, sent on subscribing). */
  override async watchTicker(symbol: string, _params: Dict = {}): Promise<Ticker> {
    await this.loadMarkets();
    const id = this.idOf(symbol);
    const s = await this.stream(false);
    const got = this.next(s, (m) => (m['event'] === 'ticker' && m['market'] === id ? (m as unknown as TickerInfo) : undefined));
    if (!this.subscribed.has(`ticker:${id}`)) {
      this.subscribed.add(`ticker:${id}`);
      await s.subscribe('ticker', id);
    }
    return this.toTicker(await got, symbol);
  }

  /**
   * The market's candles of `timeframe` after their next change, oldest first: the subscription's snapshot
   * merged with every update since (kept per symbol and timeframe, as CCXT Pro's OHLCV caches are).
   */
  override async watchOHLCV(symbol: string, timeframe = '1m', since?: Int, limit?: Int, _params: Dict = {}): Promise<OHLCV[]> {
    await this.loadMarkets();
    const id = this.idOf(symbol);
    const key = `candles:${timeframe}:${id}`;
    const s = await this.stream(false);
    let cache = this.ohlcv.get(key);
    if (cache === undefined) {
      const rows = new Map<number, OHLCV>();
      this.ohlcv.set(key, (cache = rows));
      s.on((m) => {
        if (m['event'] !== 'candles' || m['market'] !== id || m['interval'] !== timeframe) return;
        for (const r of m['candles'] as CandleRow[]) rows.set(r[0], this.toOhlcv(r));
      });
    }
    const got = this.next(s, (m) => (m['event'] === 'candles' && m['market'] === id && m['interval'] === timeframe ? true : undefined));
    if (!this.subscribed.has(key)) {
      this.subscribed.add(key);
      await s.subscribe('candles', id, timeframe);
    }
    await got;
    const rows = [...cache.values()].sort((a, b) => Number(a[0]) - Number(b[0]));
    return this.filterBySinceLimit(rows, since, limit, 0) as OHLCV[];
  }

  override async watchOrders(symbol?: Str, since?: Int, limit?: Int, _params: Dict = {}): Promise<Order[]> {
    await this.loadMarkets();
    const id = symbol === undefined ? undefined : this.idOf(symbol);
    const s = await this.stream(true);
    const got = this.next(s, (m) => {
      const o = m['event'] === 'order' ? (m['order'] as OrderInfo) : undefined;
      return o !== undefined && (id === undefined || o.market === id) ? o : undefined;
    });
    await s.subscribe('orders');
    return this.filterBySinceLimit([this.toOrder(await got)], since, limit) as Order[];
  }

  override async watchMyTrades(symbol?: Str, since?: Int, limit?: Int, _params: Dict = {}): Promise<Trade[]> {
    await this.loadMarkets();
    const id = symbol === undefined ? undefined : this.idOf(symbol);
    const s = await this.stream(true);
    const got = this.next(s, (m) => {
      const f = m['event'] === 'fill' ? (m['fill'] as FillInfo) : undefined;
      return f !== undefined && (id === undefined || f.market === id) ? f : undefined;
    });
    await s.subscribe('fills');
    return this.filterBySinceLimit([this.toTrade(await got)], since, limit) as Trade[];
  }

  override async close(): Promise<void> {
    this.ws?.close();
    this.ws = undefined;
    this.subscribed.clear();
    this.ohlcv.clear();
    await super.close();
  }
}
