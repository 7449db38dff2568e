// A typed client of the Parallax trading API: REST calls, signing (with the wallet or any viem LocalAccount
// the wallet uses), and a WebSocket stream with automatic reconnect, resubscribe and self-verifying books.
import { signCancel, signCancelAll, signLogin, type SettlementDomain } from '@parallax/chain';
import type { Address, Hex, LocalAccount } from 'viem';
import { WebSocket } from 'ws';
import { LocalBook, type BookSnapshotMessage, type BookUpdateMessage } from './local-book.js';
import { signPlaceOrder, type ApiMarketInfo, type OrderParams, type PlaceOrderBody } from './orders.js';

export interface MarketInfo extends ApiMarketInfo {
  readonly base: string;
  readonly quote: string;
  readonly minAmount: string;
  readonly minNotional: string;
  readonly makerFeeRate: number;
  readonly takerFeeRate: number;
  readonly status: string;
  /** ERC-20 decimals of the base and quote tokens (balances are in token base units); null when the gateway was not told. */
  readonly baseDecimals: number | null;
  readonly quoteDecimals: number | null;
}

export interface OrderInfo {
  readonly id: string;
  readonly clientOrderId: string | null;
  readonly market: string;
  readonly trader: string | null;
  readonly side: 'buy' | 'sell';
  readonly type: 'limit' | 'market';
  readonly timeInForce: string;
  readonly price: string;
  readonly amount: string;
  readonly filled: string;
  readonly remaining: string;
  readonly average: string | null;
  readonly status: 'open' | 'filled' | 'canceled' | 'expired' | 'rejected';
  readonly reason: string | null;
  /** Engine logical time (ms) of creation and of the last change. */
  readonly timestamp: number;
  readonly lastUpdateTimestamp: number;
}

export interface PlaceResult {
  /** Null only when `result` is 'pending' (in the log, not yet answered by the account's risk shard). */
  readonly id: string | null;
  readonly clientOrderId: string | null;
  readonly market: string;
  readonly result: 'accepted' | 'pending' | 'answered';
  readonly duplicate: boolean;
  readonly order: OrderInfo | null;
}

export interface TradeInfo {
  readonly id: string;
  readonly market: string;
  readonly price: string;
  readonly amount: string;
  readonly side: 'buy' | 'sell';
  readonly timestamp: number;
}

/** A fill's on-chain settlement, from the settlement service's tables. */
export interface FillSettlementInfo {
  readonly status: 'pending' | 'batched' | 'settled' | 'failed';
  readonly batchId: string | null;
  readonly txHash: string | null;
  /** Gas units: the batch's gas used / its fill count (once mined). */
  readonly gasShare: string | null;
  /** Wei: gasShare x the batch's effective gas price (once mined). */
  readonly feeShareWei: string | null;
  /** Stable code of why the fill was excluded (failed only). */
  readonly failureReason: string | null;
}

/** Paging of history reads: the newest `limit` (1..1000) strictly before `before` (engine ms; trades: a trade id). */
export interface HistoryOptions {
  readonly limit?: number;
  readonly before?: number;
}

export interface FillInfo {
  readonly id: string;
  readonly orderId: string;
  readonly market: string;
  readonly side: 'buy' | 'sell';
  readonly takerOrMaker: 'maker' | 'taker';
  readonly price: string;
  readonly amount: string;
  readonly timestamp: number;
  /** REST: the fill's settlement (null when the gateway has no settlement service to ask); absent on WebSocket fill events. */
  readonly settlement?: FillSettlementInfo | null;
}

export interface BookInfo {
  readonly market: string;
  readonly seq: number;
  readonly bids: [string, string][];
  readonly asks: [string, string][];
  readonly checksum: number;
}

/** GET /v1/markets/:symbol/ticker and the WebSocket `ticker` channel (event 'ticker'). */
export interface TickerInfo {
  readonly market: string;
  readonly seq: number;
  readonly bid: string | null;
  readonly ask: string | null;
  readonly bidVolume: string | null;
  readonly askVolume: string | null;
  readonly last: string | null;
  /** Rolling 24 h at one-minute granularity: first price, high, low, last - open (null without trades). */
  readonly open: string | null;
  readonly high: string | null;
  readonly low: string | null;
  readonly change: string | null;
  readonly baseVolume: string;
  readonly timestamp: number | null;
}

/** An OHLCV row: [start ms, open, high, low, close, volume] (GET .../candles, WebSocket `candles` channel). */
export type CandleRow = [number, string, string, string, string, string];

/** Orders and trades per second through the engines (GET /v1/stats, WebSocket channel `stats`). */
export interface StatsInfo {
  /** Server time (ms). */
  readonly timestamp: number;
  readonly windowSeconds: number;
  /** Means over the last `windowSeconds` complete seconds. */
  readonly ordersPerSecond: number;
  readonly tradesPerSecond: number;
  /** Since the gateway started (including what it replayed from the log). */
  readonly totalOrders: number;
  readonly totalTrades: number;
  /** Complete seconds, oldest first: [second start ms, orders, trades]. */
  readonly series: [number, number, number][];
}

/** An on-chain settlement batch (GET /v1/settlement/batches, WebSocket channel `settlement`). */
export interface SettlementBatchInfo {
  readonly batchId: string;
  readonly status: 'submitted' | 'mined' | 'confirmed' | 'failed' | 'dropped';
  readonly fillCount: number;
  readonly txHash: string | null;
  readonly blockNumber: string | null;
  readonly gasUsed: string | null;
  readonly gasPerFill: string | null;
  /** Fills the settlement service reported as unsettleable for this batch. */
  readonly failedFills: number;
  /** First report and last transition (ms). */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** An API error answer: `code` is the gateway's stable error code. */
/** One token of GET /v1/account/balances (base units as decimal strings). */
export interface BalanceInfo {
  readonly token: string;
  /** The contract balance as the risk ledger knows it. */
  readonly onchain: string;
  readonly available: string;
  readonly heldOrders: string;
  readonly heldWithdrawals: string;
  readonly withdrawalShortfall: string;
  readonly unsettledIn: string;
  readonly unsettledOut: string;
  readonly feesOwed: string;
  /**
   * Owed after fills the contract skipped took back funds already committed ("0" normally): paid first by the
   * next receipts; while non-zero the account's open orders in the token are cancelled and new ones refused.
   */
  readonly deficit: string;
  readonly asOf: { readonly shard: number; readonly journalOffset: string | number; readonly journalEntry: string | number };
}

/** One row of GET /v1/account/transfers. */
export interface TransferInfo {
  /** DEPOSIT, WITHDRAWAL_REQUESTED, WITHDRAWAL_CANCELLED or WITHDRAWAL_EXECUTED. */
  readonly kind: string;
  readonly token: string;
  readonly amount: string;
  /** The risk engine's code when the ledger refused the event, else null. */
  readonly refused: string | null;
  readonly loggedAt: string;
  /** Stable: the same transfer has the same id on every read. */
  readonly id: string;
  readonly asOf: { readonly shard: number; readonly journalOffset: string | number };
}

export class ParallaxApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ParallaxApiError';
  }
}

export interface ClientOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  /**
   * Signs orders, cancels and logins: the trader's wallet, or a trading key the trader authorized on chain
   * (`authorizeTradingKey`; then set `trader`). Without it only public calls work.
   */
  readonly account?: LocalAccount;
  /** The wallet this client trades for, when `account` is one of its trading keys. Default: account's address. */
  readonly trader?: Address;
  /**
   * The deployment this client signs for. When set, the client refuses (DOMAIN_MISMATCH) a gateway whose
   * signing domain names another chain or settlement contract, before signing anything for it.
   */
  readonly expectedDomain?: { readonly chainId: number; readonly verifyingContract: Address };
  /** Signed-request lifetime (seconds) for cancels and logins. Default 60. */
  readonly authSeconds?: number;
}

export class ParallaxClient {
  private marketsCache: Map<string, MarketInfo> | undefined;
  private domainCache: SettlementDomain | undefined;
  private nonceBase = BigInt(Date.now()) * 1000n;

  constructor(readonly options: ClientOptions) {}

  /** The account this client trades for (the wallet, also when a trading key signs). */
  get trader(): Address {
    return this.options.trader ?? this.account().address;
  }

  private account(): LocalAccount {
    const a = this.options.account;
    if (a === undefined) throw new Error('this call needs an account to sign with');
    return a;
  }

  /** A fresh nonce: microseconds since the epoch, strictly increasing in this client. */
  nextNonce(): bigint {
    const now = BigInt(Date.now()) * 1000n;
    this.nonceBase = now > this.nonceBase ? now : this.nonceBase + 1n;
    return this.nonceBase;
  }

  private authExpiry(): bigint {
    return BigInt(Math.floor(Date.now() / 1000) + (this.options.authSeconds ?? 60));
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${this.options.url}${path}`, init);
    const json = (await res.json()) as unknown;
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } }).error;
      throw new ParallaxApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? res.statusText);
    }
    return json as T;
  }

  async markets(): Promise<MarketInfo[]> {
    const r = await this.request<{ markets: MarketInfo[]; domain: SettlementDomain }>('GET', '/v1/markets');
    const want = this.options.expectedDomain;
    if (want !== undefined && (r.domain.chainId !== want.chainId || r.domain.verifyingContract.toLowerCase() !== want.verifyingContract.toLowerCase())) {
      throw new ParallaxApiError(0, 'DOMAIN_MISMATCH', `the gateway signs for chain ${r.domain.chainId} contract ${r.domain.verifyingContract}, this client for chain ${want.chainId} contract ${want.verifyingContract}`);
    }
    this.marketsCache = new Map(r.markets.map((m) => [m.symbol, m]));
    this.domainCache = r.domain;
    return r.markets;
  }

  async market(symbol: string): Promise<MarketInfo> {
    if (this.marketsCache === undefined) await this.markets();
    const m = this.marketsCache?.get(symbol);
    if (m === undefined) throw new ParallaxApiError(404, 'UNKNOWN_MARKET', `no market ${symbol}`);
    return m;
  }

  async domain(): Promise<SettlementDomain> {
    if (this.domainCache === undefined) await this.markets();
    return this.domainCache!;
  }

  book(symbol: string, depth = 50): Promise<BookInfo> {
    return this.request('GET', `/v1/markets/${encodeURIComponent(symbol)}/book?depth=${depth}`);
  }

  /** Public trades, newest last; `before` (a trade id) pages back through the read model's history. */
  async trades(symbol: string, limit = 100, before?: string): Promise<TradeInfo[]> {
    const q = `limit=${limit}${before === undefined ? '' : `&before=${encodeURIComponent(before)}`}`;
    return (await this.request<{ trades: TradeInfo[] }>('GET', `/v1/markets/${encodeURIComponent(symbol)}/trades?${q}`)).trades;
  }

  async candles(symbol: string, interval = '1m', since = 0, limit = 500): Promise<CandleRow[]> {
    const q = `interval=${interval}&since=${since}&limit=${limit}`;
    return (await this.request<{ candles: CandleRow[] }>('GET', `/v1/markets/${encodeURIComponent(symbol)}/candles?${q}`)).candles;
  }

  ticker(symbol: string): Promise<TickerInfo> {
    return this.request('GET', `/v1/markets/${encodeURIComponent(symbol)}/ticker`);
  }

  stats(): Promise<StatsInfo> {
    return this.request('GET', '/v1/stats');
  }

  /** Recent settlement batches, newest first. */
  async settlementBatches(limit = 50): Promise<SettlementBatchInfo[]> {
    return (await this.request<{ batches: SettlementBatchInfo[] }>('GET', `/v1/settlement/batches?limit=${limit}`)).batches;
  }

  /**
   * Signs an order (nonce and expiry default to a fresh nonce and one day; for a market, IOC or FOK order to
   * one minute, since the contract's rules give such an order a short signed deadline).
   */
  async signOrder(symbol: string, p: Omit<OrderParams, 'nonce' | 'expiry'> & { nonce?: bigint; expiry?: bigint }): Promise<PlaceOrderBody> {
    const m = await this.market(symbol);
    const immediate = p.type === 'market' || p.timeInForce === 'IOC' || p.timeInForce === 'FOK';
    const expiry = p.expiry ?? BigInt(Math.floor(Date.now() / 1000) + (immediate ? 60 : 86_400));
    return signPlaceOrder(this.account(), await this.domain(), m, { ...p, nonce: p.nonce ?? this.nextNonce(), expiry }, this.trader);
  }

  async placeOrder(symbol: string, p: Omit<OrderParams, 'nonce' | 'expiry'> & { nonce?: bigint; expiry?: bigint }, wait: 'ack' | 'result' = 'ack'): Promise<PlaceResult> {
    return this.request('POST', `/v1/orders?wait=${wait}`, await this.signOrder(symbol, p));
  }

  async placeOrders(orders: readonly { symbol: string; params: Omit<OrderParams, 'nonce' | 'expiry'> }[], wait: 'ack' | 'result' = 'ack'): Promise<PlaceResult[]> {
    const bodies = [];
    for (const o of orders) bodies.push(await this.signOrder(o.symbol, o.params));
    return (await this.request<{ orders: PlaceResult[] }>('POST', `/v1/orders/batch?wait=${wait}`, { orders: bodies })).orders;
  }

  private async cancelBody(symbol: string, ref: { orderId?: string; clientOrderId?: string }): Promise<Record<string, string>> {
    const m = await this.market(symbol);
    const expiry = this.authExpiry();
    const nonce = this.nextNonce();
    const trader = this.trader;
    const signature = await signCancel(this.account(), await this.domain(), {
      trader,
      marketId: m.marketId,
      orderId: ref.orderId === undefined ? 0n : BigInt(ref.orderId),
      clientOrderId: ref.clientOrderId ?? '',
      expiry,
      nonce,
    });
    const body: Record<string, string> = { market: symbol, trader, expiry: expiry.toString(), nonce: nonce.toString(), signature };
    if (ref.orderId !== undefined) body['orderId'] = ref.orderId;
    if (ref.clientOrderId !== undefined) body['clientOrderId'] = ref.clientOrderId;
    return body;
  }

  async cancelOrder(symbol: string, ref: { orderId?: string; clientOrderId?: string }): Promise<{ id: string; market: string; result: string }> {
    return this.request('POST', '/v1/orders/cancel', await this.cancelBody(symbol, ref));
  }

  /**
   * Amends an order: the gateway cancels it and places the new signed order (a signed order cannot change).
   * The answer's `order` is the new order, with its own id; `method` is always 'cancel-replace'.
   */
  async amendOrder(
    symbol: string,
    ref: { orderId?: string; clientOrderId?: string },
    p: Omit<OrderParams, 'nonce' | 'expiry'> & { nonce?: bigint; expiry?: bigint },
    wait: 'ack' | 'result' = 'ack',
  ): Promise<{ method: 'cancel-replace'; canceled: { id: string; market: string; status: string }; order: PlaceResult }> {
    const cancel = await this.cancelBody(symbol, ref);
    const order = await this.signOrder(symbol, p);
    return this.request('POST', `/v1/orders/amend?wait=${wait}`, { cancel, order });
  }

  async cancelOrders(list: readonly { symbol: string; orderId?: string; clientOrderId?: string }[]): Promise<{ id: string; market: string; result: string }[]> {
    const cancels = [];
    for (const c of list) cancels.push(await this.cancelBody(c.symbol, c));
    return (await this.request<{ cancels: { id: string; market: string; result: string }[] }>('POST', '/v1/orders/cancel-batch', { cancels })).cancels;
  }

  async cancelAll(symbol?: string): Promise<{ markets: string[]; result: string }> {
    const expiry = this.authExpiry();
    const nonce = this.nextNonce();
    const trader = this.trader;
    const marketId = symbol === undefined ? 0 : (await this.market(symbol)).marketId;
    const signature = await signCancelAll(this.account(), await this.domain(), { trader, marketId, expiry, nonce });
    const body: Record<string, string> = { trader, expiry: expiry.toString(), nonce: nonce.toString(), signature };
    if (symbol !== undefined) body['market'] = symbol;
    return this.request('POST', '/v1/orders/cancel-all', body);
  }

  /** A signed Login for private reads and the WebSocket. */
  async login(): Promise<{ trader: Address; expiry: string; nonce: string; signature: Hex }> {
    const expiry = this.authExpiry();
    const nonce = this.nextNonce();
    const trader = this.trader;
    const signature = await signLogin(this.account(), await this.domain(), { trader, expiry, nonce });
    return { trader, expiry: expiry.toString(), nonce: nonce.toString(), signature };
  }

  private async authHeaders(): Promise<Record<string, string>> {
    const l = await this.login();
    return { 'x-parallax-trader': l.trader, 'x-parallax-expiry': l.expiry, 'x-parallax-nonce': l.nonce, 'x-parallax-signature': l.signature };
  }

  async openOrders(symbol?: string): Promise<OrderInfo[]> {
    const q = symbol === undefined ? '' : `?market=${encodeURIComponent(symbol)}`;
    return (await this.request<{ orders: OrderInfo[] }>('GET', `/v1/orders/open${q}`, undefined, await this.authHeaders())).orders;
  }

  /** Finished orders, the newest `limit` (default 500) oldest first, from the read model's full history. */
  async closedOrders(symbol?: string, options: HistoryOptions = {}): Promise<OrderInfo[]> {
    return (await this.request<{ orders: OrderInfo[] }>('GET', `/v1/orders/closed${historyQuery(symbol, options)}`, undefined, await this.authHeaders())).orders;
  }

  /** The trader's fills, the newest `limit` (default 500) oldest first, each with its on-chain settlement. */
  async fills(symbol?: string, options: HistoryOptions = {}): Promise<FillInfo[]> {
    return (await this.request<{ fills: FillInfo[] }>('GET', `/v1/orders/fills${historyQuery(symbol, options)}`, undefined, await this.authHeaders())).fills;
  }

  /**
   * The signed-in trader's balances and holds per token, from the read model (the projector's replay of the
   * risk ledger): eventually consistent, `asOf` names the journal entry each row reflects. Base units as decimal strings.
   */
  async balances(): Promise<BalanceInfo[]> {
    return (await this.request<{ balances: BalanceInfo[] }>('GET', '/v1/account/balances', undefined, await this.authHeaders())).balances;
  }

  /** The signed-in trader's deposits and withdrawals, oldest first (limit 1..1000). */
  async transfers(limit?: number): Promise<TransferInfo[]> {
    const q = limit === undefined ? '' : `?limit=${String(limit)}`;
    return (await this.request<{ transfers: TransferInfo[] }>('GET', `/v1/account/transfers${q}`, undefined, await this.authHeaders())).transfers;
  }

  async order(symbol: string, ref: { orderId?: string; clientOrderId?: string }): Promise<OrderInfo> {
    const path =
      ref.clientOrderId !== undefined
        ? `/v1/orders/${encodeURIComponent(symbol)}/client/${encodeURIComponent(ref.clientOrderId)}`
        : `/v1/orders/${encodeURIComponent(symbol)}/${encodeURIComponent(ref.orderId ?? '')}`;
    return this.request('GET', path, undefined, await this.authHeaders());
  }

  /** A WebSocket stream (connects on first use, reconnects and resubscribes by itself). */
  stream(options: StreamOptions = {}): ParallaxStream {
    return new ParallaxStream(this, options);
  }
}

export interface StreamOptions {
  /** First reconnect delay bound (ms); doubles per failed attempt, with full jitter. Default 200. */
  readonly reconnectBaseMs?: number;
  /** Largest reconnect delay (ms). Default 10,000. */
  readonly reconnectMaxMs?: number;
}

type Handler = (msg: Record<string, unknown>) => void;

/**
 * The WebSocket API with reconnect and resubscribe. Book subscriptions keep a LocalBook that verifies every
 * update's sequence and checksum; on a gap or a mismatch it resubscribes, and the server's snapshot resets it.
 * After a reconnect (re-login and resubscribe done) handlers get `{ event: 'reconnected', reconnects }`.
 */
export class ParallaxStream {
  private ws: WebSocket | undefined;
  private readonly subs = new Map<string, Record<string, unknown>>();
  private readonly books = new Map<string, LocalBook>();
  private readonly handlers = new Set<Handler>();
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private closed = false;
  private loggedIn = false;
  private opening: Promise<void> | undefined;
  /** Resyncs after a gap or checksum mismatch (for monitoring and tests). */
  resyncs = 0;
  reconnects = 0;
  /** Failed reconnect attempts since the last connection that worked (drives the backoff). */
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: ParallaxClient,
    private readonly options: StreamOptions = {},
  ) {}

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  book(market: string): LocalBook | undefined {
    return this.books.get(market);
  }

  private connect(): Promise<void> {
    if (this.opening !== undefined) return this.opening;
    const url = `${this.client.options.url.replace(/^http/, 'ws')}/ws`;
    this.opening = new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.on('open', () => {
        resolve();
      });
      ws.on('error', (err) => {
        reject(err);
      });
      ws.on('message', (data: Buffer) => {
        this.onMessage(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
      });
      ws.on('close', () => {
        this.opening = undefined;
        for (const p of this.pending.values()) p.reject(new Error('connection closed'));
        this.pending.clear();
        this.scheduleReconnect();
      });
    });
    return this.opening;
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    this.reconnects++;
    try {
      await this.connect();
      if (this.loggedIn) await this.call({ op: 'login', ...(await this.client.login()) });
      for (const [key, sub] of this.subs) {
        this.books.get(key)?.clear();
        await this.call(sub);
      }
      this.failedAttempts = 0;
      // Cancel-on-disconnect belongs to a connection and the dead-man switch to the account (its connection
      // gone, it keeps running until it fires): a client re-arms both here, which takes the switch over.
      for (const h of this.handlers) h({ event: 'reconnected', reconnects: this.reconnects });
    } catch {
      // close() may have run while this reconnect awaited.
      if (!this.isClosed()) {
        this.failedAttempts++;
        this.scheduleReconnect();
      }
    }
  }

  /**
   * One pending reconnect at a time: a failed attempt both closes its socket and fails its awaits, and each used
   * to schedule its own retry, so the attempts doubled with every failure while the gateway was away.
   */
  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, this.reconnectDelay());
  }

  /** Exponential backoff with full jitter, so that many clients of a restarted gateway do not return in step. */
  private reconnectDelay(): number {
    const base = this.options.reconnectBaseMs ?? 200;
    const cap = this.options.reconnectMaxMs ?? 10_000;
    const ceiling = Math.min(cap, base * 2 ** Math.min(this.failedAttempts, 20));
    return Math.max(base / 2, Math.random() * ceiling);
  }

  private onMessage(msg: Record<string, unknown>): void {
    const id = msg['id'];
    if (typeof id === 'number' && (msg['event'] === 'result' || msg['event'] === 'error')) {
      const p = this.pending.get(id);
      if (p !== undefined) {
        this.pending.delete(id);
        if (msg['event'] === 'result') p.resolve(msg['data']);
        else {
          const e = msg['error'] as { code: string; message: string };
          p.reject(new ParallaxApiError(400, e.code, e.message));
        }
      }
    }
    if (msg['event'] === 'book') {
      const market = String(msg['market']);
      let book = this.books.get(market);
      if (book === undefined) this.books.set(market, (book = new LocalBook(market)));
      const r = msg['type'] === 'snapshot' ? book.reset(msg as unknown as BookSnapshotMessage) : book.apply(msg as unknown as BookUpdateMessage);
      if (r !== 'ok') {
        this.resyncs++;
        void this.resubscribe(market);
      }
    }
    for (const h of this.handlers) h(msg);
  }

  private async resubscribe(market: string): Promise<void> {
    try {
      await this.call({ op: 'unsubscribe', channel: 'book', market });
      await this.call({ op: 'subscribe', channel: 'book', market });
    } catch {
      // The connection dropped: reconnect() resubscribes.
    }
  }

  /** Sends one request and resolves with its result (rejects with ParallaxApiError). */
  async call(msg: Record<string, unknown>): Promise<unknown> {
    await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws!.send(JSON.stringify({ ...msg, id }));
    });
  }

  /**
   * Subscribes (and resubscribes after a reconnect). `candles` takes an interval (1m, 5m, 15m, 1h, 4h, 1d;
   * default 1m): a snapshot of recent candles, then the candles each trade batch changed. `ticker`: the
   * current ticker, then one per change, at most every 250 ms per market.
   */
  async subscribe(channel: 'book' | 'trades' | 'ticker' | 'candles' | 'stats' | 'settlement' | 'orders' | 'fills', market?: string, interval?: string): Promise<void> {
    const msg: Record<string, unknown> = { op: 'subscribe', channel };
    if (market !== undefined) msg['market'] = market;
    if (interval !== undefined) msg['interval'] = interval;
    const key = channel === 'book' && market !== undefined ? market : `${channel}:${market ?? ''}:${interval ?? ''}`;
    if (channel === 'book' && market !== undefined && !this.books.has(market)) this.books.set(market, new LocalBook(market));
    this.subs.set(key, msg);
    await this.call(msg);
  }

  async login(): Promise<void> {
    await this.call({ op: 'login', ...(await this.client.login()) });
    this.loggedIn = true;
  }

  /** Test and tooling hook: drops the connection as a network failure would (the stream reconnects). */
  dropConnection(): void {
    this.ws?.terminate();
  }

  isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.close();
  }
}

function historyQuery(symbol: string | undefined, o: HistoryOptions): string {
  const q = new URLSearchParams();
  if (symbol !== undefined) q.set('market', symbol);
  if (o.limit !== undefined) q.set('limit', String(o.limit));
  if (o.before !== undefined) q.set('before', String(o.before));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
