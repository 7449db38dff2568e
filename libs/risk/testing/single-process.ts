// The whole funds flow in one process, for property tests, benchmarks and as the reference the distributed
// pipeline is audited against: requests go to their account's shard (RiskEngine), what it forwards goes
// to the market's OrderBook, and the book's events go back to every shard (each applies what concerns
// its own orders, as account events keyed by account would deliver them).
import { EventCollector, OrderBook, type BookEvent, type Command, type MarketConfig } from '@parallax/order-book';
import { shardForAccount } from '../engine/ids.js';
import { RiskEngine } from '../engine/risk-engine.js';
import type { Address, RiskCommand, RiskConfig, RiskMarket, RiskOutcome, SignedOrderRecord, Violation } from '../engine/types.js';

export interface SingleProcessOptions {
  readonly shards: number;
  readonly markets: readonly RiskMarket[];
  readonly tsPerSecond?: number;
  readonly expiryMarginTs?: number;
  /**
   * Check after every book call that no account's available balance went down: a fill may only spend what
   * the order held (the hold covers the worst price and the highest fee), releases and receipts only add.
   * O(accounts x tokens) per call: for tests.
   */
  readonly auditFills?: boolean;
  /** In-book rules per market (default: none). */
  readonly bookConfig?: (marketId: number) => MarketConfig;
}

/** One step of the log: what went to a book, and what came back. */
export type FlowEntry =
  | { readonly kind: 'request'; readonly shard: number; readonly command: RiskCommand }
  | { readonly kind: 'events'; readonly marketId: number; readonly events: readonly BookEvent[] };

export class SingleProcessExchange {
  readonly engines: RiskEngine[];
  readonly books = new Map<number, OrderBook>();
  readonly signed = new Map<number, SignedOrderRecord>();
  readonly violations: Violation[] = [];
  /** What auditFills found: fills that spent more than their order held. */
  readonly auditFailures: string[] = [];
  /** Every trade the books produced, with its market. */
  readonly trades: (Extract<BookEvent, { type: 'trade' }> & { readonly marketId: number })[] = [];
  private readonly sink = new EventCollector();
  private readonly config: Omit<RiskConfig, 'shard'>;
  private log: FlowEntry[] | null = null;
  /** The latest ts sent to any book: what a command without a ts of its own stamps its cancels with. */
  private now = 0;

  constructor(private readonly options: SingleProcessOptions) {
    this.config = {
      shards: options.shards,
      markets: options.markets,
      ...(options.tsPerSecond === undefined ? {} : { tsPerSecond: options.tsPerSecond }),
      ...(options.expiryMarginTs === undefined ? {} : { expiryMarginTs: options.expiryMarginTs }),
    };
    this.engines = Array.from({ length: options.shards }, (_, shard) => new RiskEngine({ ...this.config, shard }));
    for (const m of options.markets) {
      const cfg = options.bookConfig?.(m.marketId) ?? {
        marketId: m.marketId,
        minSize: 0,
        minNotional: 0,
        maxOpenOrdersPerAccount: 0,
        priceBandBps: 0,
        initialReferencePrice: 0,
      };
      this.books.set(m.marketId, new OrderBook(cfg, this.sink));
    }
  }

  /** Starts recording the input log (requests per shard and book events per market) for replay(). */
  record(): FlowEntry[] {
    this.log = [];
    return this.log;
  }

  shardOf(account: Address): number {
    return shardForAccount(account, this.options.shards);
  }

  engineOf(account: Address): RiskEngine {
    return this.engines[this.shardOf(account)]!;
  }

  /** Routes a request or chain event to its shard, and what the shard forwards to the books. */
  submit(cmd: RiskCommand): RiskOutcome {
    let shard: number;
    try {
      shard = this.shardOf(cmd.account);
    } catch {
      // Hostile address: every shard would refuse it; ask shard 0 for the stable code.
      shard = 0;
    }
    this.log?.push({ kind: 'request', shard, command: cmd });
    const out = this.engines[shard]!.apply(cmd, this.now);
    if (!out.ok) return out;
    if (out.place !== null) {
      this.signed.set(out.place.signed.orderId, out.place.signed);
      this.toBook(out.place.marketId, out.place.command);
    }
    for (const c of out.cancels) this.toBook(c.marketId, c.command);
    return out;
  }

  /** A command straight to a book (expiry ticks, or hostile input that bypasses risk). */
  toBook(marketId: number, cmd: Command): void {
    const book = this.books.get(marketId);
    if (book === undefined) throw new RangeError(`no book for market ${marketId}`);
    if (cmd.ts > this.now) this.now = cmd.ts;
    book.apply(cmd);
    const events = this.sink.take();
    if (events.length === 0) return;
    this.log?.push({ kind: 'events', marketId, events });
    for (const e of events) if (e.type === 'trade') this.trades.push({ ...e, marketId });
    const before = this.options.auditFills === true ? this.availableBalances() : null;
    // Every shard sees the events before any cancel they cause reaches a book (whose events come after).
    const cancels = [];
    for (const engine of this.engines) {
      const stats = engine.applyBookEvents(marketId, events);
      this.violations.push(...stats.violations);
      cancels.push(...stats.cancels);
    }
    if (before !== null) {
      for (const [key, was] of before) {
        const now = this.availableBalances().get(key) ?? 0n;
        if (now < was) this.auditFailures.push(`market ${marketId} events took ${was - now} from the available ${key}`);
      }
    }
    for (const c of cancels) this.toBook(c.marketId, c.command);
  }

  private availableBalances(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const e of this.engines) {
      for (const a of e.accountAddresses()) for (const t of e.tokens) out.set(`${a} ${t}`, e.balance(a, t).available);
    }
    return out;
  }

  /** Expires every due GTT order of every market at `ts`. */
  expireAll(ts: number): void {
    for (const id of this.books.keys()) this.toBook(id, { type: 'expire', ts });
  }

  /** Every broken invariant of every shard, plus global conservation of fill flows (Σ flow == 0). */
  checkInvariants(): string[] {
    const broken = this.engines.flatMap((e, i) => e.checkInvariants().map((b) => `shard ${i}: ${b}`));
    for (const token of this.engines[0]!.tokens) {
      const flow = this.engines.reduce((s, e) => s + e.totals(token).flow, 0n);
      if (flow !== 0n) broken.push(`${token}: fill flows over all shards sum to ${flow}, not 0`);
      // A maker's rebate is paid on the maker's shard, the taker fee that covers it on the taker's: only the
      // sum over shards is bounded below.
      const fees = this.engines.reduce((s, e) => s + e.totals(token).fees, 0n);
      if (fees < 0n) broken.push(`${token}: fees over all shards sum to ${fees}`);
    }
    return broken;
  }

  /** A fresh set of engines fed the recorded log: the determinism reference. */
  static replay(options: SingleProcessOptions, log: readonly FlowEntry[]): RiskEngine[] {
    const config = { shards: options.shards, markets: options.markets, tsPerSecond: options.tsPerSecond ?? 1000, expiryMarginTs: options.expiryMarginTs ?? 0 };
    const engines = Array.from({ length: options.shards }, (_, shard) => new RiskEngine({ ...config, shard }));
    for (const entry of log) {
      if (entry.kind === 'request') engines[entry.shard]!.apply(entry.command);
      else for (const e of engines) e.applyBookEvents(entry.marketId, entry.events);
    }
    return engines;
  }
}
