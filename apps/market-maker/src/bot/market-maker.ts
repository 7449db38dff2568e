// The reference market maker: quotes a ladder on both sides of every configured market around a reference
// price, skewed by inventory, and requotes (batch cancel + batch place) only when the reference moves past a
// threshold or a level is gone. It uses the public API alone, through the SDK.
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '@parallax/observability';
import { LocalBook, ParallaxApiError, type BookSnapshotMessage, type BookUpdateMessage, type MarketInfo, type OrderInfo, type ParallaxClient, type ParallaxStream } from '@parallax/sdk';
import type { Registry } from 'prom-client';
import type { Address, Hex } from 'viem';
import { Portfolio, type Fill } from '../strategy/portfolio.js';
import { computeQuotes, needsRequote, skewedCentre, type Quote, type QuoteParams } from '../strategy/quoting.js';
import { bookMidReference, type MarketView, type ReferencePriceSource, type ViewLevel } from '../strategy/reference.js';
import { marketMakerMetrics, metricsEndpoint, type MarketMakerMetrics } from './metrics.js';
import { botClient } from './signer.js';

export interface MarketMakerOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:3000 */
  readonly gatewayUrl: string;
  /** The key that signs (0x + 64 hex digits): a trading key the wallet authorized (then set `trader`), or the wallet's. */
  readonly privateKey: Hex;
  /** The wallet this bot trades for when privateKey is one of its trading keys. */
  readonly trader?: Address;
  /** Markets to quote (symbols); default every market the gateway lists. */
  readonly markets?: readonly string[];
  /** Ladder shape; see DEFAULT_QUOTING for each default. */
  readonly quoting?: Partial<QuoteParams>;
  /** Requote when the skewed centre moved this many basis points from the one quoted. Default 5. */
  readonly requoteBps?: number;
  /** Reference for a market whose book (without the bot) and trades give none yet. Default 100. */
  readonly startPrice?: number | Readonly<Record<string, number>>;
  /** Where the reference comes from; default the book's mid without the bot's own quotes (bookMidReference). */
  readonly reference?: ReferencePriceSource;
  /** Default reference: each side's price where the others' size reaches this many base units. Default 0 (the best level). */
  readonly referenceMinDepth?: number;
  /** Default reference: at most this many basis points of movement per check. Default 10. */
  readonly referenceMaxStepBps?: number;
  /** Dead-man switch: the gateway cancels every order of the account after this long without a heartbeat. Default 5000. */
  readonly deadmanMs?: number;
  /** Have the gateway cancel everything when the connection drops (default true). */
  readonly cancelOnDisconnect?: boolean;
  /** Quotes are post-only (rejected instead of taking). Default false. */
  readonly postOnly?: boolean;
  /** Fee cap signed into each order (millionths); default the market's larger fee rate. */
  readonly maxFeeRate?: number;
  /** How often each market's quotes are checked against the reference (ms). Default 250. */
  readonly checkIntervalMs?: number;
  /** Reconnect backoff: first delay bound and cap (ms). Defaults 200 and 10,000. */
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  /** Serve /metrics on this port (0: any free port); undefined: no endpoint (the registry is still filled). */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
}

export const DEFAULT_QUOTING: QuoteParams = {
  spreadBps: 20,
  levelSpacingBps: 10,
  levels: 5,
  size: 1,
  sizeGrowth: 0.5,
  skewBpsPerUnit: 2,
  maxSkewBps: 50,
  maxInventory: 50,
};

export interface MarketMakerDeps {
  readonly logger?: Logger;
  /** Registry for the bot's metrics (default: its own, with Node's default metrics). */
  readonly registry?: Registry;
  /** The API client (default: the SDK client for gatewayUrl signing with privateKey); unit tests pass a fake. */
  readonly client?: ParallaxClient;
}

interface LiveQuote {
  readonly market: string;
  readonly side: 'buy' | 'sell';
  readonly price: string;
  remaining: number;
  state: 'pending' | 'open';
  /** Replaced by a newer ladder and being cancelled (still in the book until the cancel lands). */
  stale: boolean;
}

interface MarketState {
  readonly info: MarketInfo;
  readonly book: LocalBook;
  lastTrade: number | undefined;
  quotedCentre: number | undefined;
  wanted: number;
  busy: boolean;
  /** No requote before this time (after a failure or rejected quotes). */
  notBefore: number;
  /** Requotes in a row that failed or left quotes that did not rest (drives the pause before the next one). */
  troubles: number;
  /** Test seam: drop this many of the next book updates, as a lossy network would. */
  dropUpdates: number;
}

export interface MarketMakerSnapshot {
  readonly quotes: readonly { market: string; side: 'buy' | 'sell'; price: string; remaining: number; clientOrderId: string }[];
  readonly positions: Readonly<Record<string, number>>;
  readonly inventory: Readonly<Record<string, number>>;
  readonly fillsCounted: number;
  readonly requotes: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly reconciles: number;
  /** The sequence of the bot's copy of each book (-1 while resyncing). */
  readonly bookSeq: Readonly<Record<string, number>>;
}

export interface RunningMarketMaker {
  /** Cancels the bot's quotes and stops it. */
  close(): Promise<void>;
  readonly metricsUrl?: string;
  readonly trader: string;
  readonly metrics: MarketMakerMetrics;
  snapshot(): MarketMakerSnapshot;
  /** Fault injection for tests and drills. */
  readonly faults: {
    /** Loses the next book update of a market (the bot must notice the gap and resync). */
    dropBookUpdate(market: string): void;
    /** Drops the WebSocket as a network failure would (the bot reconnects). */
    dropConnection(): void;
    /** Stops dead, as a hung process would: no heartbeat, no cancel, the connection left open. */
    freeze(): void;
    /** Loses every fill message until the next reconnect, as a connection that silently broke would. */
    loseFillsUntilReconnect(): void;
  };
}

export async function startMarketMaker(options: MarketMakerOptions, deps: MarketMakerDeps = {}): Promise<RunningMarketMaker> {
  const mm = new MarketMaker(options, deps);
  try {
    await mm.start();
  } catch (err) {
    await mm.stop(false);
    throw err;
  }
  return mm.handle();
}

class MarketMaker {
  private readonly log: Logger;
  private readonly metrics: MarketMakerMetrics;
  private readonly client: ParallaxClient;
  private readonly params: QuoteParams;
  private readonly reference: ReferencePriceSource;
  private readonly markets = new Map<string, MarketState>();
  private readonly live = new Map<string, LiveQuote>();
  private readonly portfolio: Portfolio;
  private stream: ParallaxStream | undefined;
  private timers: NodeJS.Timeout[] = [];
  private metricsServer: { url: string; close(): Promise<void> } | undefined;
  /** Client order ids are `<run>-<n>`: unique across restarts of the bot, at most 36 characters. */
  private readonly run = randomBytes(6).toString('hex');
  private seq = 0;
  private stopped = false;
  private rearming = false;
  private requoteCount = 0;
  private reconcileCount = 0;
  private resyncCount = 0;
  private reconnectCount = 0;
  /** Test seam (see faults.loseFillsUntilReconnect). */
  private losingFills = false;

  constructor(
    private readonly options: MarketMakerOptions,
    deps: MarketMakerDeps,
  ) {
    this.log = deps.logger ?? createLogger('market-maker');
    this.metrics = marketMakerMetrics(deps.registry);
    this.client = deps.client ?? botClient(options.gatewayUrl, { privateKey: options.privateKey, ...(options.trader === undefined ? {} : { trader: options.trader }) });
    this.params = { ...DEFAULT_QUOTING, ...options.quoting };
    const start = options.startPrice ?? 100;
    this.reference =
      options.reference ??
      bookMidReference({
        startPrice: (m) => (typeof start === 'number' ? start : start[m]),
        ...(options.referenceMinDepth === undefined ? {} : { minDepth: options.referenceMinDepth }),
        ...(options.referenceMaxStepBps === undefined ? {} : { maxStepBps: options.referenceMaxStepBps }),
      });
    this.portfolio = new Portfolio((m) => {
      const s = this.markets.get(m);
      return s === undefined ? undefined : { base: s.info.base, quote: s.info.quote };
    });
  }

  async start(): Promise<void> {
    const all = await this.client.markets();
    const wanted = this.options.markets ?? all.map((m) => m.symbol);
    for (const symbol of wanted) {
      const info = all.find((m) => m.symbol === symbol);
      if (info === undefined) throw new ParallaxApiError(404, 'UNKNOWN_MARKET', `the gateway lists no market ${symbol}`);
      this.markets.set(symbol, { info, book: new LocalBook(symbol), lastTrade: undefined, quotedCentre: undefined, wanted: 0, busy: false, notBefore: 0, troubles: 0, dropUpdates: 0 });
    }
    // What happened before this run is not this run's inventory; quotes left by an earlier run go.
    this.portfolio.ignore(await this.client.fills());
    for (const m of this.markets.keys()) await this.client.cancelAll(m);

    const stream = this.client.stream({ reconnectBaseMs: this.options.reconnectBaseMs ?? 200, reconnectMaxMs: this.options.reconnectMaxMs ?? 10_000 });
    this.stream = stream;
    stream.on((msg) => {
      this.onMessage(msg);
    });
    await this.armSession();
    await stream.subscribe('orders');
    await stream.subscribe('fills');
    for (const m of this.markets.keys()) {
      await stream.subscribe('trades', m);
      await stream.subscribe('book', m);
    }
    if (this.options.metricsPort !== undefined) {
      this.metricsServer = await metricsEndpoint(this.metrics.registry, this.options.metricsHost ?? '127.0.0.1', this.options.metricsPort);
    }
    const deadman = this.deadmanMs();
    this.timers.push(
      setInterval(() => {
        stream.call({ op: 'ping' }).then(
          (pong) => {
            this.onPong(pong);
          },
          () => undefined,
        );
      }, Math.max(200, Math.floor(deadman / 3))),
      setInterval(() => {
        this.tick();
      }, this.options.checkIntervalMs ?? 250),
    );
    this.log.info({ trader: this.client.trader, markets: [...this.markets.keys()], metrics: this.metricsServer?.url, deadmanMs: deadman }, 'market maker quoting');
  }

  /**
   * The gateway says whether this connection's dead-man switch is armed. It is not after it fired while this bot
   * was alive (a stall of the bot or of the gateway longer than the timeout: the quotes went, and the ladder is
   * placed again as levels gone): arm it again, or the new quotes would outlive a later hang.
   */
  private onPong(pong: unknown): void {
    if (this.stopped || this.rearming || (pong as { deadman?: unknown } | null)?.deadman !== false) return;
    const stream = this.stream;
    if (stream === undefined) return;
    this.rearming = true;
    this.log.warn({ deadmanMs: this.deadmanMs() }, 'the dead-man switch had fired: arming it again');
    stream
      .call({ op: 'deadman', timeoutMs: this.deadmanMs() })
      .catch((err: unknown) => {
        this.log.warn({ err }, 'could not arm the dead-man switch again (retried at the next ping)');
      })
      .finally(() => {
        this.rearming = false;
      });
  }

  private deadmanMs(): number {
    return this.options.deadmanMs ?? 5_000;
  }

  /** Login, cancel-on-disconnect and the dead-man switch: they belong to one connection, so again after each reconnect. */
  private async armSession(): Promise<void> {
    const stream = this.stream!;
    await stream.login();
    await stream.call({ op: 'session', cancelOnDisconnect: this.options.cancelOnDisconnect ?? true });
    await stream.call({ op: 'deadman', timeoutMs: this.deadmanMs() });
  }

  handle(): RunningMarketMaker {
    const h: RunningMarketMaker = {
      close: () => this.stop(true),
      trader: this.client.trader,
      metrics: this.metrics,
      snapshot: () => this.snapshot(),
      faults: {
        dropBookUpdate: (market) => {
          const s = this.markets.get(market);
          if (s !== undefined) s.dropUpdates++;
        },
        dropConnection: () => {
          this.stream?.dropConnection();
        },
        freeze: () => {
          this.stopped = true;
          for (const t of this.timers.splice(0)) clearInterval(t);
        },
        loseFillsUntilReconnect: () => {
          this.losingFills = true;
        },
      },
    };
    return this.metricsServer === undefined ? h : { ...h, metricsUrl: this.metricsServer.url };
  }

  async stop(cancel: boolean): Promise<void> {
    const wasStopped = this.stopped;
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    // Let a requote in flight finish, so that nothing it places outlives the cancel below.
    for (let i = 0; i < 200 && [...this.markets.values()].some((s) => s.busy); i++) await new Promise((r) => setTimeout(r, 25));
    if (cancel && !wasStopped) {
      for (const m of this.markets.keys()) {
        await this.client.cancelAll(m).catch((err: unknown) => {
          this.log.warn({ err, market: m }, 'could not cancel the quotes at stop (the dead-man switch will)');
        });
      }
    }
    this.stream?.close();
    await this.metricsServer?.close();
  }

  private snapshot(): MarketMakerSnapshot {
    const positions: Record<string, number> = {};
    const bookSeq: Record<string, number> = {};
    for (const [m, s] of this.markets) {
      positions[m] = this.portfolio.position(m);
      bookSeq[m] = s.book.seq;
    }
    return {
      quotes: [...this.live].map(([clientOrderId, q]) => ({ market: q.market, side: q.side, price: q.price, remaining: q.remaining, clientOrderId })),
      positions,
      inventory: Object.fromEntries(this.portfolio.inventory()),
      fillsCounted: this.portfolio.counted,
      requotes: this.requoteCount,
      resyncs: this.resyncCount,
      reconnects: this.reconnectCount,
      reconciles: this.reconcileCount,
      bookSeq,
    };
  }

  private onMessage(msg: Record<string, unknown>): void {
    try {
      switch (msg['event']) {
        case 'book':
          this.onBook(msg);
          break;
        case 'trades': {
          const s = this.markets.get(String(msg['market']));
          const trades = msg['trades'] as { price: string }[] | undefined;
          const last = trades?.[trades.length - 1];
          if (s !== undefined && last !== undefined) s.lastTrade = Number(last.price);
          break;
        }
        case 'order':
          this.onOrder(msg['order'] as OrderInfo);
          break;
        case 'fill':
          if (!this.losingFills) this.onFill(msg['fill'] as Fill);
          break;
        case 'reconnected':
          this.losingFills = false;
          this.reconnectCount++;
          this.metrics.reconnects.inc();
          void this.afterReconnect();
          break;
        default:
          break;
      }
    } catch (err) {
      // One odd message must not stop the bot: log it and go on.
      this.log.warn({ err, event: msg['event'] }, 'message not understood');
    }
  }

  private onBook(msg: Record<string, unknown>): void {
    const market = String(msg['market']);
    const s = this.markets.get(market);
    if (s === undefined) return;
    let r;
    if (msg['type'] === 'snapshot') r = s.book.reset(msg as unknown as BookSnapshotMessage);
    else if (s.dropUpdates > 0) {
      s.dropUpdates--;
      return;
    } else r = s.book.apply(msg as unknown as BookUpdateMessage);
    if (r === 'ok') return;
    this.resyncCount++;
    this.metrics.resyncs.inc({ market });
    this.log.warn({ market, reason: r }, 'book out of sync: resubscribing');
    // The SDK resubscribes by itself when its own copy broke too; otherwise (a loss only this copy saw) ask here.
    if (this.stream?.book(market)?.synced === true) {
      const stream = this.stream;
      void (async () => {
        await stream.call({ op: 'unsubscribe', channel: 'book', market });
        await stream.call({ op: 'subscribe', channel: 'book', market });
      })().catch(() => undefined);
    }
  }

  private onOrder(o: OrderInfo): void {
    if (o.clientOrderId === null) return;
    const q = this.live.get(o.clientOrderId);
    if (q === undefined) return;
    if (o.status === 'open') {
      q.remaining = Number(o.remaining);
      q.state = 'open';
    } else {
      this.live.delete(o.clientOrderId);
    }
    this.updateQuoteGauges();
  }

  private onFill(f: Fill): void {
    if (!this.portfolio.apply(f)) return;
    this.metrics.fills.inc({ market: f.market, side: f.side });
    this.updateInventoryGauges();
  }

  private async afterReconnect(): Promise<void> {
    try {
      await this.stream!.call({ op: 'session', cancelOnDisconnect: this.options.cancelOnDisconnect ?? true });
      await this.stream!.call({ op: 'deadman', timeoutMs: this.deadmanMs() });
      await this.reconcile();
    } catch (err) {
      this.log.warn({ err }, 'reconcile after reconnect failed (retried at the next reconnect or requote)');
    }
  }

  /**
   * After a reconnect: fills missed while away come from REST (each counted once), and the ladder is rebuilt
   * from a clean slate (cancel-on-disconnect may be cancelling the old one at this very moment).
   */
  private async reconcile(): Promise<void> {
    for (const f of await this.client.fills()) this.onFill(f);
    for (const [m, s] of this.markets) {
      await this.waitIdle(s);
      s.busy = true;
      try {
        await this.client.cancelAll(m);
        for (const [id, q] of this.live) if (q.market === m) this.live.delete(id);
        s.quotedCentre = undefined;
      } finally {
        s.busy = false;
      }
    }
    this.reconcileCount++;
    this.updateQuoteGauges();
    this.log.info({ fills: this.portfolio.counted }, 'reconciled after reconnect');
  }

  private async waitIdle(s: MarketState): Promise<void> {
    while (s.busy) await new Promise((r) => setTimeout(r, 10));
  }

  /** The view a reference source gets: the book without this bot's own quotes. */
  private view(market: string, s: MarketState): MarketView {
    const own = new Map<string, number>();
    for (const q of this.live.values()) if (q.market === market) own.set(`${q.side}/${q.price}`, (own.get(`${q.side}/${q.price}`) ?? 0) + q.remaining);
    const { bids, asks } = s.book.top(Number.MAX_SAFE_INTEGER);
    const others = (levels: readonly (readonly [string, string])[], side: 'buy' | 'sell'): ViewLevel[] => {
      const out: ViewLevel[] = [];
      for (const [p, a] of levels) {
        const size = Number(a) - (own.get(`${side}/${p}`) ?? 0);
        if (size > 1e-12) out.push([Number(p), size]);
      }
      return out;
    };
    return { market, bids: others(bids, 'buy'), asks: others(asks, 'sell'), lastTrade: s.lastTrade };
  }

  private tick(): void {
    if (this.stopped) return;
    for (const [market, s] of this.markets) {
      if (s.busy || Date.now() < s.notBefore || !s.book.synced) continue;
      try {
        this.check(market, s);
      } catch (err) {
        // A reference source that throws, or a market whose grid the maths refuses: that market waits, the others go on.
        this.pause(s);
        this.metrics.requoteFailures.inc({ market, code: 'STRATEGY_ERROR' });
        this.log.warn({ err, market }, 'could not compute quotes');
      }
    }
  }

  /** One market's check: the reference now, and a requote if the ladder is stale. */
  private check(market: string, s: MarketState): void {
    const ref = this.reference.price(this.view(market, s));
    this.metrics.unrealisedPnl.set({ market }, this.portfolio.unrealised(market, ref));
    if (ref === undefined) return;
    const position = this.portfolio.position(market);
    const centre = skewedCentre(ref, position, this.params);
    const liveHere = [...this.live.values()].filter((q) => q.market === market && !q.stale).length;
    if (!needsRequote(s.quotedCentre, centre, this.options.requoteBps ?? 5, liveHere, s.wanted)) return;
    const reason = s.quotedCentre === undefined ? 'initial' : liveHere < s.wanted ? 'level_gone' : 'reference_moved';
    const quotes = computeQuotes(ref, position, this.params, s.info);
    s.busy = true;
    this.requote(market, s, quotes, centre, reason)
      .catch((err: unknown) => {
        const code = err instanceof ParallaxApiError ? err.code : 'ERROR';
        this.metrics.requoteFailures.inc({ market, code });
        this.pause(s);
        this.log.warn({ err, market }, 'requote failed');
      })
      .finally(() => {
        s.busy = false;
      });
  }

  /**
   * One batch cancel of the old ladder and one batch place of the new one, sent together: the cancels name the
   * old quotes by client order id, so they cannot touch the new ones, and the requote takes one round trip
   * instead of two (for those few milliseconds both ladders may rest).
   */
  private async requote(market: string, s: MarketState, quotes: readonly Quote[], centre: number, reason: string): Promise<void> {
    const end = this.metrics.requoteSeconds.startTimer({ market });
    const old = [...this.live].filter(([, q]) => q.market === market).map(([id, q]) => {
      q.stale = true;
      return id;
    });
    await Promise.all([this.cancelQuotes(market, old), this.placeLadder(market, s, quotes)]);
    s.quotedCentre = centre;
    s.wanted = quotes.length;
    this.requoteCount++;
    this.metrics.requotes.inc({ market, reason });
    end();
    this.updateQuoteGauges();
  }

  /**
   * Cancels quotes by client order id in one batch. If the gateway refuses the batch, one by one: a quote it does
   * not know is gone, one it refuses for another reason stays marked stale and goes with the next requote.
   */
  private async cancelQuotes(market: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.client.cancelOrders(ids.map((clientOrderId) => ({ symbol: market, clientOrderId })));
      for (const id of ids) this.live.delete(id);
      return;
    } catch (err) {
      this.log.debug({ err, market }, 'batch cancel refused, cancelling one by one');
    }
    for (const id of ids) {
      try {
        await this.client.cancelOrder(market, { clientOrderId: id });
        this.live.delete(id);
      } catch (err) {
        if (err instanceof ParallaxApiError && err.code === 'ORDER_NOT_FOUND') this.live.delete(id);
        else this.metrics.requoteFailures.inc({ market, code: err instanceof ParallaxApiError ? err.code : 'ERROR' });
      }
    }
  }

  private async placeLadder(market: string, s: MarketState, quotes: readonly Quote[]): Promise<void> {
    if (this.stopped) return;
    const maxFeeRate = this.options.maxFeeRate ?? Math.ceil(Math.max(s.info.makerFeeRate, s.info.takerFeeRate) * 1_000_000);
    const orders = quotes.map((q) => {
      const clientOrderId = `${this.run}-${++this.seq}`;
      this.live.set(clientOrderId, { market, side: q.side, price: q.price, remaining: Number(q.amount), state: 'pending', stale: false });
      return { symbol: market, params: { side: q.side, type: 'limit' as const, price: q.price, amount: q.amount, maxFeeRate, clientOrderId, ...(this.options.postOnly === true ? { postOnly: true } : {}) } };
    });
    let results;
    try {
      results = orders.length === 0 ? [] : await this.client.placeOrders(orders, 'result');
    } catch (err) {
      // Some may have reached the book all the same (an answer lost on the way back): the next requote cancels
      // them by client order id, and forgets those the gateway never saw.
      for (const o of orders) {
        const q = this.live.get(o.params.clientOrderId);
        if (q !== undefined) q.stale = true;
      }
      throw err;
    }
    let resting = 0;
    const refusals = new Map<string, number>();
    for (const [i, r] of results.entries()) {
      const id = orders[i]!.params.clientOrderId;
      if (r.order?.status === 'rejected') {
        const code = r.order.reason ?? 'REJECTED';
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
      }
      const q = this.live.get(id);
      if (q === undefined) continue;
      if (r.order !== null && r.order.status !== 'open') this.live.delete(id);
      else {
        resting++;
        if (r.order !== null) {
          q.remaining = Number(r.order.remaining);
          q.state = 'open';
        }
      }
    }
    for (const [code, n] of refusals) this.metrics.requoteFailures.inc({ market, code }, n);
    if (refusals.size > 0 && s.troubles === 0) this.log.warn({ market, refusals: Object.fromEntries(refusals) }, 'quotes refused');
    // Quotes that did not rest (refused, or taken at once) would make the next check requote at once: pause,
    // longer each time in a row (a bot out of funds retries every 30 s, not four times a second).
    if (resting < quotes.length) this.pause(s);
    else s.troubles = 0;
  }

  private pause(s: MarketState): void {
    s.notBefore = Date.now() + Math.min(30_000, 1_000 * 2 ** Math.min(s.troubles, 5));
    s.troubles++;
  }

  private updateQuoteGauges(): void {
    for (const m of this.markets.keys()) {
      for (const side of ['buy', 'sell'] as const) {
        this.metrics.quotesLive.set({ market: m, side }, [...this.live.values()].filter((q) => q.market === m && q.side === side).length);
      }
    }
  }

  private updateInventoryGauges(): void {
    for (const [asset, v] of this.portfolio.inventory()) this.metrics.inventory.set({ asset }, v);
    for (const m of this.markets.keys()) this.metrics.realisedPnl.set({ market: m }, this.portfolio.realised(m));
  }
}
