// The WebSocket API at /ws: public book, trade, ticker and candle channels, a signed login for the private orders and fills
// channels, trading (place, placeBatch, cancel, cancel-all), cancel-on-disconnect and a dead-man switch.
//
// Messages are JSON objects with an `op` (client -> server) or an `event` (server -> client); a request may
// carry an `id` the answer echoes. Every failure is an `error` event with a stable code; a client never gets a
// stack trace and cannot stop the server. The book channel sends a snapshot, then updates, each with
// prevSeq/seq (the book sequence: a client whose last seq is not the update's prevSeq missed one and must
// resubscribe) and the checksum of the top of the book after it. An update merges the engine batches of a
// short window (GATEWAY_BOOK_COALESCE_MS, `book-coalescer.ts`, growing with the subscribers: `fanout-policy.ts`)
// and is serialised and framed once for all subscribers (`ws-frames.ts`). A connection whose socket holds more
// than GATEWAY_WS_MAX_BUFFERED_BYTES unsent bytes is closed with 4008 SLOW_CONSUMER instead of being buffered for.
import { Inject, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayDisconnect, WebSocketGateway } from '@nestjs/websockets';
import { bookChecksum, CHECKSUM_DEPTH } from '@parallax/sdk';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { WebSocket } from 'ws';
import { toApiError } from '../errors/api-exception.filter.js';
import { ApiError } from '../errors/api.errors.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { MarketDataService } from '../market-data/market-data.service.js';
import { candlesFrom, type BatchOutcome, type MarketState } from '../market-data/market-state.js';
import { candleRow, INTERVAL_NAMES, INTERVALS, tickerOf, type Interval } from '../market-data/ticker.js';
import { MarketDirectory, type ApiMarket } from '../markets/market-directory.js';
import { orderView, tradeView } from '../orders/order-view.js';
import { CancelAllDto, CancelOrderDto, PlaceOrderDto } from '../orders/orders.dto.js';
import { OrdersService, type Session } from '../orders/orders.service.js';
import { SettlementStatusService } from '../settlement/settlement-status.service.js';
import { StatsService } from '../stats/stats.service.js';
import { DeadmanSwitches } from './deadman-switches.js';
import { BookCoalescer, type MergedDiff } from './book-coalescer.js';
import { closeSlowConsumer, coalesceWindowMs, isSlowConsumer, sendToAll } from './fanout-policy.js';

const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_DEADMAN_MS = 600_000;
const MIN_DEADMAN_MS = 1_000;
/** The `stats` channel's period, and the batches the `settlement` channel's snapshot carries. */
const STATS_PERIOD_MS = 1_000;
const SETTLEMENT_SNAPSHOT_BATCHES = 50;
/** A market's ticker goes out at most this often (the last change always goes out, at the end of the wait). */
export const TICKER_MIN_INTERVAL_MS = 250;
/** Candles a `candles` subscription's snapshot carries. */
const CANDLE_SNAPSHOT_ROWS = 100;

interface Connection {
  readonly socket: WebSocket;
  readonly subs: Set<string>;
  session: Session | undefined;
  cancelOnDisconnect: boolean;
  windowStart: number;
  windowCount: number;
}

type Json = Record<string, unknown>;

async function validated<T extends object>(cls: new () => T, value: unknown, field: string): Promise<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('INVALID_FIELD', `${field} must be an object`);
  const dto = plainToInstance(cls, value);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, stopAtFirstError: true });
  const e = errors[0];
  if (e !== undefined) {
    const msg = e.constraints === undefined ? 'invalid' : (Object.values(e.constraints)[0] ?? 'invalid');
    throw new ApiError('INVALID_FIELD', `${field}.${e.property}: ${msg}`);
  }
  return dto;
}

@WebSocketGateway({ path: '/ws', maxPayload: MAX_MESSAGE_BYTES })
export class StreamGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly connections = new Map<WebSocket, Connection>();
  /** channel key ("book:M1-USDC") -> subscribed connections. */
  private readonly channels = new Map<string, Set<Connection>>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeSettlement: () => void;
  private readonly statsTimer: NodeJS.Timeout;
  /** Per market: when its ticker last went out, what it said, and the pending throttled send. */
  private readonly tickers = new Map<number, { sentAt: number; text: string; timer: NodeJS.Timeout | undefined }>();
  /** Per account, not per connection: a switch outlives the socket that armed it (deadman-switches.ts). */
  private readonly deadman = new DeadmanSwitches<Session>((session) => {
    this.cancelAllOf(session);
  });
  private readonly books: BookCoalescer;
  private readonly logger = new Logger('StreamGateway');
  /** Book subscriptions on this gateway (all markets): what the merge window grows with. */
  private bookSubscriptions = 0;
  /** Per market state: the last book snapshot sent, reused while the book sequence has not moved. */
  private readonly snapshots = new WeakMap<MarketState, { seq: number; text: string }>();
  private readonly messagesPerSecond: number;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly markets: MarketDirectory,
    private readonly data: MarketDataService,
    private readonly orders: OrdersService,
    private readonly stats: StatsService,
    private readonly settlement: SettlementStatusService,
  ) {
    this.messagesPerSecond = ctx.config.GATEWAY_WS_MESSAGES_PER_SECOND;
    const bounds = { baseMs: ctx.config.GATEWAY_BOOK_COALESCE_MS, maxMs: ctx.config.GATEWAY_BOOK_COALESCE_MAX_MS, writesPerSecond: ctx.config.GATEWAY_BOOK_WRITES_PER_SECOND };
    this.books = new BookCoalescer(
      () => coalesceWindowMs(this.bookSubscriptions, bounds),
      (diff) => {
        this.sendBookDiff(diff);
      },
    );
    this.unsubscribe = data.onBatch((marketId, outcome) => {
      this.publish(marketId, outcome);
    });
    this.unsubscribeSettlement = settlement.onChange((batch) => {
      this.broadcast('settlement', { event: 'settlement', type: 'update', batch });
    });
    this.statsTimer = setInterval(() => {
      if ((this.channels.get('stats')?.size ?? 0) > 0) this.broadcast('stats', { event: 'stats', ...this.stats.snapshot() });
    }, STATS_PERIOD_MS);
    this.statsTimer.unref();
  }

  /** Book subscriptions on this gateway, all markets (what the merge window grows with). */
  get bookSubscriberCount(): number {
    return this.bookSubscriptions;
  }

  onModuleDestroy(): void {
    this.unsubscribe();
    this.unsubscribeSettlement();
    this.books.close();
    clearInterval(this.statsTimer);
    this.deadman.close();
    for (const t of this.tickers.values()) clearTimeout(t.timer);
  }

  handleConnection(socket: WebSocket): void {
    const c: Connection = { socket, subs: new Set(), session: undefined, cancelOnDisconnect: false, windowStart: 0, windowCount: 0 };
    this.connections.set(socket, c);
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      void this.onMessage(c, raw, isBinary);
    });
  }

  handleDisconnect(socket: WebSocket): void {
    const c = this.connections.get(socket);
    if (c === undefined) return;
    this.connections.delete(socket);
    this.leaveAll(c);
    // An armed dead-man switch keeps running: no heartbeat will come from this connection any more.
    if (c.cancelOnDisconnect && c.session !== undefined) this.cancelAllOf(c.session);
  }

  private cancelAllOf(session: Session): void {
    this.orders.cancelAllFor(session).catch(() => undefined);
  }

  private join(c: Connection, key: string): void {
    c.subs.add(key);
    let set = this.channels.get(key);
    if (set === undefined) this.channels.set(key, (set = new Set()));
    if (!set.has(c) && key.startsWith('book:')) this.bookSubscriptions++;
    set.add(c);
  }

  private leave(c: Connection, key: string): void {
    c.subs.delete(key);
    if (this.channels.get(key)?.delete(c) === true && key.startsWith('book:')) this.bookSubscriptions--;
  }

  private leaveAll(c: Connection): void {
    for (const key of [...c.subs]) this.leave(c, key);
  }

  /** A connection that does not read fast enough: no more messages, closed with 4008 SLOW_CONSUMER. */
  private dropSlow(c: Connection): void {
    this.logger.warn(`closing a slow consumer (${c.socket.bufferedAmount} bytes unsent, subscribed to ${[...c.subs].join(', ')}): 4008 SLOW_CONSUMER`);
    this.leaveAll(c);
    closeSlowConsumer(c.socket);
  }

  /** One message to every subscriber of a channel: serialised and framed once (fanout-policy.ts). */
  private broadcast(key: string, msg: Json | string): void {
    const subs = this.channels.get(key);
    if (subs === undefined || subs.size === 0) return;
    const bytes = Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg), 'utf8');
    sendToAll(subs, (c) => c.socket, bytes, this.ctx.config.GATEWAY_WS_MAX_BUFFERED_BYTES, (c) => {
      this.dropSlow(c);
    });
  }

  private send(c: Connection, msg: Json | string): void {
    const ws = c.socket;
    if (ws.readyState !== ws.OPEN) return;
    if (isSlowConsumer(ws.bufferedAmount, this.ctx.config.GATEWAY_WS_MAX_BUFFERED_BYTES)) this.dropSlow(c);
    else ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  private async onMessage(c: Connection, raw: Buffer, isBinary: boolean): Promise<void> {
    let id: unknown;
    try {
      const now = Date.now();
      if (now - c.windowStart >= 1000) {
        c.windowStart = now;
        c.windowCount = 0;
      }
      if (++c.windowCount > this.messagesPerSecond) throw new ApiError('RATE_LIMITED', `at most ${this.messagesPerSecond} messages per second`);
      if (isBinary) throw new ApiError('MALFORMED_JSON', 'messages are JSON text');
      let msg: unknown;
      try {
        msg = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ApiError('MALFORMED_JSON', 'the message is not valid JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new ApiError('INVALID_FIELD', 'a message is a JSON object');
      const m = msg as Json;
      id = typeof m['id'] === 'string' || typeof m['id'] === 'number' ? m['id'] : undefined;
      // A batch of N orders counts as N messages against the connection's budget, once.
      const orders = m['op'] === 'placeBatch' ? m['orders'] : undefined;
      if (Array.isArray(orders) && orders.length > 1) {
        c.windowCount += orders.length - 1;
        if (c.windowCount > this.messagesPerSecond) throw new ApiError('RATE_LIMITED', `at most ${this.messagesPerSecond} messages per second (a batch counts one per order)`);
      }
      const data = await this.handle(c, m);
      if (data !== undefined) this.send(c, { event: 'result', id: id ?? null, data });
    } catch (err) {
      const e = toApiError(err);
      this.send(c, { event: 'error', id: id ?? null, error: { code: e.code, message: e.message } });
    }
  }

  private async handle(c: Connection, m: Json): Promise<unknown> {
    const op = m['op'];
    switch (op) {
      case 'ping':
        // `deadman`: whether this connection's switch is armed (and restarted by this ping). False after it
        // fired (a stall of the bot, or of this gateway, longer than its timeout): the bot arms it again.
        return { pong: Date.now(), deadman: this.heartbeat(c) };
      case 'subscribe':
        return this.subscribe(c, m);
      case 'unsubscribe': {
        const key = this.channelKey(c, m);
        this.leave(c, key);
        return { unsubscribed: key };
      }
      case 'login': {
        const s = this.orders.login(String(m['trader']), String(m['expiry']), String(m['nonce']), String(m['signature']), { oneShot: true });
        c.session = s;
        return { trader: s.trader, expiry: s.expiry };
      }
      case 'session': {
        const session = this.requireSession(c);
        if (typeof m['cancelOnDisconnect'] !== 'boolean') throw new ApiError('INVALID_FIELD', 'cancelOnDisconnect must be a boolean');
        c.cancelOnDisconnect = m['cancelOnDisconnect'];
        return { trader: session.trader, cancelOnDisconnect: c.cancelOnDisconnect };
      }
      case 'deadman': {
        const session = this.requireSession(c);
        const t = m['timeoutMs'];
        if (typeof t !== 'number' || !Number.isInteger(t) || (t !== 0 && (t < MIN_DEADMAN_MS || t > MAX_DEADMAN_MS))) {
          throw new ApiError('INVALID_FIELD', `timeoutMs must be 0 (off) or an integer in ${MIN_DEADMAN_MS}..${MAX_DEADMAN_MS}`);
        }
        if (t === 0) return { deadmanMs: 0, disarmed: this.deadman.disarm(session.trader) };
        this.deadman.arm(c, session, t);
        return { deadmanMs: t };
      }
      case 'place': {
        this.requireSession(c);
        const dto = await validated(PlaceOrderDto, m['order'], 'order');
        this.sameTrader(c, dto.trader);
        const [r] = await this.orders.place([dto], m['wait'] === 'result');
        return r;
      }
      case 'placeBatch': {
        this.requireSession(c);
        const list = m['orders'];
        const max = this.ctx.config.GATEWAY_MAX_BATCH;
        if (!Array.isArray(list) || list.length === 0) throw new ApiError('INVALID_FIELD', 'orders must be a non-empty array of orders');
        if (list.length > max) throw new ApiError('TOO_MANY_ORDERS_IN_BATCH', `orders: at most ${max} per request`);
        const dtos: PlaceOrderDto[] = [];
        for (let i = 0; i < list.length; i++) {
          const dto = await validated(PlaceOrderDto, list[i], `orders[${i}]`);
          this.sameTrader(c, dto.trader);
          dtos.push(dto);
        }
        return { orders: await this.orders.place(dtos, m['wait'] === 'result') };
      }
      case 'cancel': {
        this.requireSession(c);
        const dto = await validated(CancelOrderDto, m['cancel'], 'cancel');
        this.sameTrader(c, dto.trader);
        const [r] = await this.orders.cancel([dto]);
        return r;
      }
      case 'cancelAll': {
        this.requireSession(c);
        const dto = await validated(CancelAllDto, m['cancelAll'], 'cancelAll');
        this.sameTrader(c, dto.trader);
        return this.orders.cancelAll(dto);
      }
      default:
        throw new ApiError('INVALID_FIELD', 'op must be one of ping, subscribe, unsubscribe, login, session, deadman, place, placeBatch, cancel, cancelAll');
    }
  }

  private heartbeat(c: Connection): boolean {
    return c.session !== undefined && this.deadman.heartbeat(c, c.session.trader);
  }

  private requireSession(c: Connection): Session {
    const s = c.session;
    if (s === undefined) throw new ApiError('NOT_LOGGED_IN', 'log in first (op: login)');
    if (s.expiry * 1000 <= Date.now()) {
      c.session = undefined;
      throw new ApiError('NOT_LOGGED_IN', 'the login has expired');
    }
    return s;
  }

  private sameTrader(c: Connection, trader: string): void {
    if (trader.toLowerCase() !== c.session?.trader) throw new ApiError('SIGNER_MISMATCH', 'trader: a connection trades for the account it logged in as');
  }

  private channelKey(c: Connection, m: Json): string {
    const channel = m['channel'];
    if (channel === 'orders' || channel === 'fills') {
      return `${channel}:${this.requireSession(c).trader}`;
    }
    // Exchange-wide public channels: no market.
    if (channel === 'stats' || channel === 'settlement') return channel;
    if (channel !== 'book' && channel !== 'trades' && channel !== 'ticker' && channel !== 'candles') {
      throw new ApiError('INVALID_FIELD', 'channel must be one of book, trades, ticker, candles, stats, settlement, orders, fills');
    }
    const market = m['market'];
    if (typeof market !== 'string') throw new ApiError('INVALID_FIELD', 'market must be a market symbol');
    const symbol = this.markets.get(market).def.symbol;
    if (channel !== 'candles') return `${channel}:${symbol}`;
    const interval = m['interval'] ?? '1m';
    if (typeof interval !== 'string' || !Object.hasOwn(INTERVALS, interval)) throw new ApiError('INVALID_FIELD', `interval must be one of ${INTERVAL_NAMES.join(', ')}`);
    return `candles:${interval}:${symbol}`;
  }

  private subscribe(c: Connection, m: Json): unknown {
    const key = this.channelKey(c, m);
    if (!c.subs.has(key) && c.subs.size >= this.ctx.config.GATEWAY_MAX_SUBSCRIPTIONS) {
      throw new ApiError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.ctx.config.GATEWAY_MAX_SUBSCRIPTIONS} subscriptions per connection`);
    }
    // The market's pending diff goes out before this subscriber joins (or resubscribes): the snapshot below is
    // the book after it, and the next diff starts there.
    if (key.startsWith('book:')) this.books.flush(this.markets.get(key.slice(5)).def.marketId);
    this.join(c, key);
    if (key.startsWith('book:')) {
      const market = this.markets.get(key.slice(5));
      const state = this.data.market(market.def.marketId)!;
      // Sent synchronously after subscribing: no event batch can fall between the snapshot and the first update.
      // Serialised once per book sequence: a thousand subscribers (re)connecting at once cost one snapshot.
      let snap = this.snapshots.get(state);
      if (snap === undefined || snap.seq !== state.bookSeq) {
        snap = { seq: state.bookSeq, text: JSON.stringify({ event: 'book', type: 'snapshot', market: market.def.symbol, ...this.bookLevels(market, state), seq: state.bookSeq }) };
        this.snapshots.set(state, snap);
      }
      this.send(c, snap.text);
    } else if (key.startsWith('ticker:')) {
      const market = this.markets.get(key.slice(7));
      this.send(c, { event: 'ticker', ...tickerOf(market, this.data.market(market.def.marketId)!, this.now()) });
    } else if (key.startsWith('candles:')) {
      const [, interval, symbol] = key.split(':') as [string, Interval, string];
      const market = this.markets.get(symbol);
      const rows = this.data.market(market.def.marketId)!.candlesOf(INTERVALS[interval], 0, CANDLE_SNAPSHOT_ROWS);
      this.send(c, { event: 'candles', type: 'snapshot', market: symbol, interval, candles: rows.map((r) => candleRow(market, r)) });
    } else if (key === 'stats') {
      this.send(c, { event: 'stats', ...this.stats.snapshot() });
    } else if (key === 'settlement') {
      this.send(c, { event: 'settlement', type: 'snapshot', batches: this.settlement.recent(SETTLEMENT_SNAPSHOT_BATCHES) });
    }
    return { subscribed: key };
  }

  private bookLevels(m: ApiMarket, s: MarketState): { bids: [string, string][]; asks: [string, string][]; checksum: number } {
    // The whole book: a diff changes any level, and a level deeper than a capped snapshot can rise into the
    // checksummed top when the levels above it go, with an amount the client never got (seen at 5,000 updates/s
    // on a 400-level book with a 50-level snapshot: the checksum failed and every client had to resync).
    const { bids, asks } = s.levels(Number.MAX_SAFE_INTEGER);
    const b = bids.map(([p, q]): [string, string] => [m.units.ticksToPrice(p), m.units.lotsToSize(q)]);
    const a = asks.map(([p, q]): [string, string] => [m.units.ticksToPrice(p), m.units.lotsToSize(q)]);
    return { bids: b, asks: a, checksum: bookChecksum(b, a) };
  }

  private now(): number {
    return (this.ctx.clock ?? Date.now)();
  }

  /** Throttled: at most one ticker per market per TICKER_MIN_INTERVAL_MS, the latest state, and only if it changed. */
  private tickerChanged(m: ApiMarket): void {
    let t = this.tickers.get(m.def.marketId);
    if (t === undefined) this.tickers.set(m.def.marketId, (t = { sentAt: 0, text: '', timer: undefined }));
    if (t.timer !== undefined) return;
    const wait = t.sentAt + TICKER_MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.sendTicker(m);
      return;
    }
    const pending = t;
    pending.timer = setTimeout(() => {
      pending.timer = undefined;
      this.sendTicker(m);
    }, wait);
    pending.timer.unref();
  }

  private sendTicker(m: ApiMarket): void {
    const t = this.tickers.get(m.def.marketId);
    const state = this.data.market(m.def.marketId);
    if (t === undefined || state === undefined) return;
    // What a subscriber sees changes with the book's top, the last trade and the 24 h figures; not with seq alone.
    const { seq: _seq, ...view } = tickerOf(m, state, this.now());
    const text = JSON.stringify(view);
    if (text === t.text) return;
    t.text = text;
    t.sentAt = Date.now();
    this.broadcast(`ticker:${m.def.symbol}`, { event: 'ticker', ...view, seq: state.seq });
  }

  /** One merged diff: serialised and framed once, the same frame to every subscriber of the market's book. */
  private sendBookDiff(diff: MergedDiff): void {
    const m = this.markets.byMarketId(diff.marketId);
    const subs = m === undefined ? undefined : this.channels.get(`book:${m.def.symbol}`);
    if (m === undefined || subs === undefined || subs.size === 0) return;
    const u = m.units;
    const { bids, asks } = this.data.market(diff.marketId)!.levels(CHECKSUM_DEPTH);
    const checksum = bookChecksum(
      bids.map(([p, q]) => [u.ticksToPrice(p), u.lotsToSize(q)]),
      asks.map(([p, q]) => [u.ticksToPrice(p), u.lotsToSize(q)]),
    );
    const levels = (side: Map<number, number>): [string, string][] => Array.from(side, ([p, q]): [string, string] => [u.ticksToPrice(p), u.lotsToSize(q)]);
    const bytes = Buffer.from(
      JSON.stringify({ event: 'book', type: 'update', market: m.def.symbol, prevSeq: diff.prevSeq, seq: diff.seq, ts: diff.ts, bids: levels(diff.bids), asks: levels(diff.asks), checksum }),
      'utf8',
    );
    sendToAll(subs, (c) => c.socket, bytes, this.ctx.config.GATEWAY_WS_MAX_BUFFERED_BYTES, (c) => {
      this.dropSlow(c);
    });
  }

  private publish(marketId: number, outcome: BatchOutcome): void {
    const m = this.markets.byMarketId(marketId);
    if (m === undefined) return;
    const u = m.units;
    const diff = outcome.diff;
    if (diff !== undefined) {
      // Merged and sent by the coalescer; with nobody subscribed there is nothing to merge for (a new
      // subscriber starts from a snapshot).
      if ((this.channels.get(`book:${m.def.symbol}`)?.size ?? 0) > 0) this.books.add(diff);
      else this.books.drop(marketId);
    }
    const tradeSubs = this.channels.get(`trades:${m.def.symbol}`);
    if (outcome.trades.length > 0 && tradeSubs !== undefined && tradeSubs.size > 0) {
      this.broadcast(`trades:${m.def.symbol}`, { event: 'trades', market: m.def.symbol, trades: outcome.trades.map((t) => tradeView(m, t)) });
    }
    const first = outcome.trades[0];
    if (first !== undefined) {
      const state = this.data.market(marketId)!;
      for (const interval of INTERVAL_NAMES) {
        const key = `candles:${interval}:${m.def.symbol}`;
        if ((this.channels.get(key)?.size ?? 0) === 0) continue;
        // The candles this batch's trades changed: from the period of its first trade on.
        const rows = candlesFrom(state.candles, INTERVALS[interval], first.ts);
        this.broadcast(key, { event: 'candles', type: 'update', market: m.def.symbol, interval, candles: rows.map((r) => candleRow(m, r)) });
      }
    }
    if ((diff !== undefined || outcome.trades.length > 0) && (this.channels.get(`ticker:${m.def.symbol}`)?.size ?? 0) > 0) this.tickerChanged(m);
    for (const o of outcome.touched) {
      const meta = this.data.metaOf(marketId, o.orderId);
      if (meta === undefined) continue;
      const subs = this.channels.get(`orders:${meta.trader}`);
      if (subs !== undefined) for (const c of subs) this.send(c, { event: 'order', order: orderView(m, o, meta) });
    }
    for (const t of outcome.trades) {
      for (const [role, orderId] of [['maker', t.makerOrderId], ['taker', t.takerOrderId]] as const) {
        const meta = this.data.metaOf(marketId, orderId);
        if (meta === undefined) continue;
        const subs = this.channels.get(`fills:${meta.trader}`);
        if (subs === undefined) continue;
        const isBuy = (role === 'taker') === (t.takerSide === 0);
        const fill = { id: String(t.seq), orderId: String(orderId), market: m.def.symbol, side: isBuy ? 'buy' : 'sell', takerOrMaker: role, price: u.ticksToPrice(t.price), amount: u.lotsToSize(t.size), timestamp: t.ts };
        for (const c of subs) this.send(c, { event: 'fill', fill });
      }
    }
  }
}
