import { ByteReader, ByteWriter } from './bytes.js';
import type { AmendOrder, CancelAll, CancelOrder, Command, ExpireOrders, PlaceOrder } from './commands.js';
import { OrderBookError } from './errors.js';
import type { EventSink } from './events.js';
import { NullSink } from './events.js';
import { StateHash } from './hash.js';
import { NumMap } from './num-map.js';
import type {
  AmendReason,
  CommandType,
  DoneReason,
  MarketConfig,
  OrderType,
  RejectReason,
  StpMode,
  TimeInForce,
} from './types.js';
import { MAX_ORDER_ID_SOURCES, Side } from './types.js';
import {
  AmendReason as AR,
  CommandType as CT,
  DoneReason as DR,
  RejectReason as RR,
  StpMode as STP,
  TimeInForce as TIF,
} from './types.js';

/** Read-only view of a resting order (always a limit order). */
export interface OrderView {
  readonly orderId: number;
  readonly accountId: number;
  readonly side: Side;
  readonly price: number;
  readonly remaining: number;
  readonly tif: TimeInForce;
  readonly expiresAt: number;
  readonly postOnly: boolean;
  readonly stp: StpMode;
}

/** Aggregated price level. */
export interface LevelView {
  readonly price: number;
  readonly size: number;
  readonly orders: number;
}

const MAX = Number.MAX_SAFE_INTEGER;
const SNAPSHOT_MAGIC = [0x50, 0x58, 0x4f, 0x42]; // "PXOB"
/**
 * 2 added maxTimestampStep, uniqueOrderIds and the order-id high-water mark; 3 replaced the flag by
 * orderIdSources and keeps one mark per source. 1 and 2 are still restored.
 */
const SNAPSHOT_VERSION = 3;
/** Returned by match() when self-trade prevention ended the taker. */
const STOPPED = 1;

// Intrusive nodes: an order is linked into its level's FIFO (prev/next), its account's list
// (acctPrev/acctNext) and, for GTT, the expiry heap (heapIndex). Nodes and levels are pooled.
class Order {
  id = 0;
  account = 0;
  side: Side = 0;
  price = 0;
  remaining = 0;
  tif: TimeInForce = 0;
  expiresAt = 0;
  stp: StpMode = 0;
  postOnly = false;
  /** Registered in byId / account list / heap (resting, or a resting order being re-matched by amend). */
  live = false;
  heapIndex = -1;
  prev: Order | null = null;
  next: Order | null = null;
  level: Level | null = null;
  acct: Account | null = null;
  acctPrev: Order | null = null;
  acctNext: Order | null = null;
}

class Level {
  /** price for bids, -price for asks: levels are sorted by ascending key, best last. */
  key = 0;
  price = 0;
  total = 0;
  count = 0;
  head: Order | null = null;
  tail: Order | null = null;
  constructor(public book: BookSide) {}
}

class BookSide {
  /** Sorted by ascending key; the best level is the last element (O(1) access and removal). */
  readonly levels: Level[] = [];
  /** Sum of resting sizes; kept <= MAX so every level total stays exact. */
  total = 0;
  constructor(
    readonly side: Side,
    /** +1 for bids, -1 for asks. */
    readonly sign: number,
  ) {}
}

class Account {
  id = 0;
  count = 0;
  head: Order | null = null;
}

function isSafeNonNegative(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}
function sanitizeId(x: number): number {
  return isSafeNonNegative(x) ? x : 0;
}
function orderBefore(a: Order, b: Order): boolean {
  return a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.id < b.id);
}

type ResolvedConfig = Required<MarketConfig>;

function validateConfig(c: MarketConfig): ResolvedConfig {
  const fields = [
    'marketId',
    'minSize',
    'minNotional',
    'maxOpenOrdersPerAccount',
    'priceBandBps',
    'initialReferencePrice',
  ] as const;
  for (const f of fields) {
    if (!isSafeNonNegative(c[f])) {
      throw new OrderBookError('INVALID_MARKET_CONFIG', `${f} must be a non-negative safe integer, got ${String(c[f])}`);
    }
  }
  if (c.priceBandBps > 10000) {
    throw new OrderBookError('INVALID_MARKET_CONFIG', `priceBandBps must be at most 10000, got ${c.priceBandBps}`);
  }
  const maxTimestampStep = c.maxTimestampStep ?? 0;
  if (!isSafeNonNegative(maxTimestampStep)) {
    throw new OrderBookError('INVALID_MARKET_CONFIG', `maxTimestampStep must be a non-negative safe integer, got ${String(maxTimestampStep)}`);
  }
  const unique: unknown = c.uniqueOrderIds ?? false;
  if (typeof unique !== 'boolean') {
    throw new OrderBookError('INVALID_MARKET_CONFIG', `uniqueOrderIds must be a boolean, got ${String(unique)}`);
  }
  const orderIdSources = c.orderIdSources ?? (unique ? 1 : 0);
  if (!isSafeNonNegative(orderIdSources) || orderIdSources > MAX_ORDER_ID_SOURCES) {
    throw new OrderBookError('INVALID_MARKET_CONFIG', `orderIdSources must be an integer in 0..${MAX_ORDER_ID_SOURCES}, got ${String(orderIdSources)}`);
  }
  const uniqueOrderIds = orderIdSources > 0;
  return Object.freeze({
    marketId: c.marketId,
    minSize: c.minSize,
    minNotional: c.minNotional,
    maxOpenOrdersPerAccount: c.maxOpenOrdersPerAccount,
    priceBandBps: c.priceBandBps,
    initialReferencePrice: c.initialReferencePrice,
    maxTimestampStep,
    uniqueOrderIds,
    orderIdSources,
  });
}

/**
 * One market's limit order book: price-time priority over integer ticks and lots. Deterministic: the
 * events it emits depend only on its state and the commands applied. Never throws on bad commands (it
 * emits `rejected`); throws OrderBookError only for an invalid config or snapshot.
 */
export class OrderBook {
  private readonly cfg: ResolvedConfig;
  private sink: EventSink;
  private seq = 0;
  private now = 0;
  /** Highest order id this market ever accepted (0 = none): no live order has a larger id. */
  private maxOrderId = 0;
  /** orderIdSources > 0: the highest id accepted per source (index = orderId % orderIdSources). */
  private sourceMarks: number[];
  private lastPrice = 0;
  private readonly hash = new StateHash();
  private readonly bids = new BookSide(Side.Buy, 1);
  private readonly asks = new BookSide(Side.Sell, -1);
  private readonly byId = new NumMap<Order>(4096);
  private readonly accounts = new NumMap<Account>(256);
  /**
   * Whether resting orders are linked into per-account lists (accounts). Only the open-order cap and
   * cancel-all need them, so they are built on first need (O(resting orders), once) and kept from then on:
   * with one account per order they cost an index insert and delete per order, a third of the book's time.
   * Invisible in events, hash and snapshot (those never read the lists).
   */
  private accountIndexed: boolean;
  /** Binary min-heap of GTT orders by (expiresAt, orderId). */
  private readonly heap: Order[] = [];
  private readonly orderPool: Order[] = [];
  private readonly levelPool: Level[] = [];
  private readonly accountPool: Account[] = [];
  /** Size released by the self-trade prevention step that ended the taker (see match()). */
  private stopRelease = 0;
  private bandRef = -1;
  private bandWidth = 0;

  constructor(config: MarketConfig, sink: EventSink = new NullSink()) {
    this.cfg = validateConfig(config);
    this.sourceMarks = new Array<number>(this.cfg.orderIdSources).fill(0);
    this.sink = sink;
    this.accountIndexed = this.cfg.maxOpenOrdersPerAccount > 0;
  }

  /** Redirect subsequent events (e.g. a fresh collector per batch). */
  setSink(sink: EventSink): void {
    this.sink = sink;
  }

  // ---------------------------------------------------------------- commands

  /** Dispatch any command. */
  apply(cmd: Command): void {
    switch (cmd.type) {
      case 'place':
        this.place(cmd);
        return;
      case 'cancel':
        this.cancel(cmd);
        return;
      case 'cancelAll':
        this.cancelAll(cmd);
        return;
      case 'amend':
        this.amend(cmd);
        return;
      case 'expire':
        this.expire(cmd);
        return;
    }
  }

  place(cmd: PlaceOrder): void {
    const ts = cmd.ts;
    if (!this.advance(ts, CT.Place, cmd.orderId, cmd.accountId)) return;
    const orderId: number = cmd.orderId;
    const accountId: number = cmd.accountId;
    const side: number = cmd.side;
    const type: number = cmd.orderType;
    const tif: number = cmd.tif;
    const stp: number = cmd.stp;
    const price: number = cmd.price;
    const size: number = cmd.size;
    const expiresAt: number = cmd.expiresAt;
    const postOnlyFlag: unknown = cmd.postOnly;
    const postOnly = postOnlyFlag === true;
    const isLimit = type === 0;
    const restable = isLimit && (tif === TIF.GTC || tif === TIF.GTT);
    const cfg = this.cfg;
    let r = 0;
    if (!(Number.isSafeInteger(orderId) && orderId > 0)) r = RR.INVALID_ORDER_ID;
    else if (!isSafeNonNegative(accountId)) r = RR.INVALID_ACCOUNT_ID;
    else if (side !== 0 && side !== 1) r = RR.INVALID_SIDE;
    else if (type !== 0 && type !== 1) r = RR.INVALID_ORDER_TYPE;
    else if (isLimit ? tif !== 0 && tif !== 1 && tif !== 2 && tif !== 3 : tif !== TIF.IOC && tif !== TIF.FOK)
      r = RR.INVALID_TIME_IN_FORCE;
    else if (stp !== 0 && stp !== 1 && stp !== 2 && stp !== 3 && stp !== 4) r = RR.INVALID_STP_MODE;
    else if (!(Number.isSafeInteger(size) && size > 0)) r = RR.INVALID_SIZE;
    else if (!(Number.isSafeInteger(price) && (price > 0 || (!isLimit && price === 0)))) r = RR.INVALID_PRICE;
    else if (tif === TIF.GTT ? !isSafeNonNegative(expiresAt) : expiresAt !== 0) r = RR.INVALID_EXPIRY;
    else if (tif === TIF.GTT && expiresAt <= ts) r = RR.EXPIRY_NOT_IN_FUTURE;
    else if (postOnly && !restable) r = RR.POST_ONLY_NOT_ALLOWED;
    else if (isLimit && price * size > MAX) r = RR.NOTIONAL_OUT_OF_RANGE;
    // Every live id is <= maxOrderId, so a fresh (increasing) id skips the index lookup entirely.
    else if (orderId <= this.maxOrderId && this.byId.has(orderId)) r = RR.DUPLICATE_ORDER_ID;
    else if (orderId <= this.maxOrderId && cfg.orderIdSources > 0 && orderId <= this.sourceMarks[orderId % cfg.orderIdSources]!) r = RR.ORDER_ID_REUSED;
    else if (size < cfg.minSize) r = RR.SIZE_BELOW_MINIMUM;
    else if (isLimit && price * size < cfg.minNotional) r = RR.NOTIONAL_BELOW_MINIMUM;
    else if (isLimit && this.outOfBand(price)) r = RR.PRICE_OUT_OF_BAND;
    else if (restable && cfg.maxOpenOrdersPerAccount > 0 && this.openOrderCount(accountId) >= cfg.maxOpenOrdersPerAccount)
      r = RR.TOO_MANY_OPEN_ORDERS;
    else if (restable && size > MAX - (side === 0 ? this.bids : this.asks).total) r = RR.BOOK_SIZE_OUT_OF_RANGE;
    if (r !== 0) {
      this.eRejected(ts, CT.Place, sanitizeId(orderId), sanitizeId(accountId), r as RejectReason);
      return;
    }
    const limitKey = isLimit ? this.limitKeyOf(side as Side, price) : this.marketLimitKey(side as Side, price);
    if (postOnly && this.wouldTake(side as Side, limitKey)) {
      this.eRejected(ts, CT.Place, orderId, accountId, RR.POST_ONLY_WOULD_TAKE);
      return;
    }
    this.eAccepted(ts, orderId, accountId, side as Side, type as OrderType, tif as TimeInForce, price, size);
    if (orderId > this.maxOrderId) this.maxOrderId = orderId;
    if (cfg.orderIdSources > 0) {
      const src = orderId % cfg.orderIdSources;
      if (orderId > this.sourceMarks[src]!) this.sourceMarks[src] = orderId;
    }

    const t = this.orderPool.pop() ?? new Order();
    t.id = orderId;
    t.account = accountId;
    t.side = side as Side;
    t.price = price;
    t.remaining = size;
    t.tif = tif as TimeInForce;
    t.expiresAt = expiresAt;
    t.stp = stp as StpMode;
    t.postOnly = postOnly;
    if (tif === TIF.FOK && !this.fokFillable(t, limitKey)) {
      this.eDone(ts, orderId, accountId, DR.KILLED, size);
      this.orderPool.push(t);
      return;
    }
    const status = this.match(t, limitKey, ts);
    this.finishTaker(t, status, restable, ts);
  }

  cancel(cmd: CancelOrder): void {
    const ts = cmd.ts;
    if (!this.advance(ts, CT.Cancel, cmd.orderId, cmd.accountId)) return;
    const o = this.byId.get(cmd.orderId);
    if (o === undefined) {
      this.eRejected(ts, CT.Cancel, sanitizeId(cmd.orderId), sanitizeId(cmd.accountId), RR.ORDER_NOT_FOUND);
    } else if (o.account !== cmd.accountId) {
      this.eRejected(ts, CT.Cancel, o.id, sanitizeId(cmd.accountId), RR.NOT_ORDER_OWNER);
    } else {
      this.removeResting(o, DR.CANCELLED, ts);
    }
  }

  /** Cancels every resting order of the account in ascending orderId order (no events if it has none). */
  cancelAll(cmd: CancelAll): void {
    const ts = cmd.ts;
    if (!this.advance(ts, CT.CancelAll, 0, cmd.accountId)) return;
    if (!isSafeNonNegative(cmd.accountId)) {
      this.eRejected(ts, CT.CancelAll, 0, 0, RR.INVALID_ACCOUNT_ID);
      return;
    }
    this.indexAccounts();
    const acct = this.accounts.get(cmd.accountId);
    if (acct === undefined) return;
    const list: Order[] = [];
    for (let o = acct.head; o !== null; o = o.acctNext) list.push(o);
    list.sort((a, b) => a.id - b.id);
    for (const o of list) this.removeResting(o, DR.CANCELLED, ts);
  }

  amend(cmd: AmendOrder): void {
    const ts = cmd.ts;
    if (!this.advance(ts, CT.Amend, cmd.orderId, cmd.accountId)) return;
    const price: number = cmd.price;
    const size: number = cmd.size;
    const cfg = this.cfg;
    const o = this.byId.get(cmd.orderId);
    let r = 0;
    if (o === undefined) r = RR.ORDER_NOT_FOUND;
    else if (o.account !== cmd.accountId) r = RR.NOT_ORDER_OWNER;
    else if (!(Number.isSafeInteger(price) && price > 0)) r = RR.INVALID_PRICE;
    else if (!(Number.isSafeInteger(size) && size > 0)) r = RR.INVALID_SIZE;
    else if (price * size > MAX) r = RR.NOTIONAL_OUT_OF_RANGE;
    else if (price === o.price && size === o.remaining) r = RR.AMEND_NO_CHANGE;
    else if (size < cfg.minSize) r = RR.SIZE_BELOW_MINIMUM;
    else if (price * size < cfg.minNotional) r = RR.NOTIONAL_BELOW_MINIMUM;
    else if (price !== o.price && this.outOfBand(price)) r = RR.PRICE_OUT_OF_BAND;
    else if (size > o.remaining && size - o.remaining > MAX - o.level!.book.total) r = RR.BOOK_SIZE_OUT_OF_RANGE;
    else if (price !== o.price && o.postOnly && this.wouldTake(o.side, this.limitKeyOf(o.side, price)))
      r = RR.POST_ONLY_WOULD_TAKE;
    if (r !== 0 || o === undefined) {
      this.eRejected(ts, CT.Amend, sanitizeId(cmd.orderId), sanitizeId(cmd.accountId), r as RejectReason);
      return;
    }
    this.eAmended(ts, o.id, o.account, price, size, AR.USER);
    const lvl = o.level!;
    if (price === o.price) {
      if (size < o.remaining) {
        // Size down: keeps its place in the queue.
        const d = o.remaining - size;
        o.remaining = size;
        lvl.total -= d;
        lvl.book.total -= d;
      } else {
        // Size up: loses priority (back of the same level).
        this.unlink(o);
        o.remaining = size;
        this.append(lvl, o);
      }
      this.eLevel(ts, o.side, price, lvl.total);
      return;
    }
    // Price change: leaves its level and re-enters at the new price as if new (may trade).
    this.unlink(o);
    this.eLevel(ts, o.side, lvl.price, lvl.total);
    if (lvl.count === 0) this.removeLevel(lvl);
    o.price = price;
    o.remaining = size;
    const status = this.match(o, this.limitKeyOf(o.side, price), ts);
    this.finishTaker(o, status, true, ts);
  }

  /** Advances the logical clock (expiring due GTT orders) without any other effect. */
  expire(cmd: ExpireOrders): void {
    this.advance(cmd.ts, CT.Expire, 0, 0);
  }

  // ---------------------------------------------------------------- queries

  get config(): MarketConfig {
    return this.cfg;
  }
  /** Sequence number of the last emitted event (0 before the first). */
  get sequence(): number {
    return this.seq;
  }
  /** Logical time of the last applied command. */
  get clock(): number {
    return this.now;
  }
  /** Highest order id the market has accepted (0 = none). */
  get highestOrderId(): number {
    return this.maxOrderId;
  }
  /** Highest id accepted from the source of `orderId` (orderId % orderIdSources); 0 without the rule. */
  highestOrderIdOfSource(source: number): number {
    const n = this.cfg.orderIdSources;
    return n === 0 ? 0 : (this.sourceMarks[source % n] ?? 0);
  }
  /** Price band reference: last trade price, else the configured initial reference (0 = none). */
  get referencePrice(): number {
    return this.lastPrice > 0 ? this.lastPrice : this.cfg.initialReferencePrice;
  }
  /** Price of the last trade (0 = no trade yet). */
  get lastTradePrice(): number {
    return this.lastPrice;
  }
  /** Best bid in ticks, 0 when the bid side is empty. */
  bestBid(): number {
    const l = this.bids.levels;
    return l.length === 0 ? 0 : l[l.length - 1]!.price;
  }
  /** Best ask in ticks, 0 when the ask side is empty. */
  bestAsk(): number {
    const l = this.asks.levels;
    return l.length === 0 ? 0 : l[l.length - 1]!.price;
  }
  /** Number of resting orders. */
  get orderCount(): number {
    return this.byId.size;
  }
  getOrder(orderId: number): OrderView | undefined {
    const o = this.byId.get(orderId);
    return o === undefined ? undefined : view(o);
  }
  /** Resting orders of a side, best level first, FIFO within a level. */
  orders(side: Side): OrderView[] {
    const out: OrderView[] = [];
    const levels = (side === Side.Buy ? this.bids : this.asks).levels;
    for (let i = levels.length - 1; i >= 0; i--) {
      for (let o = levels[i]!.head; o !== null; o = o.next) out.push(view(o));
    }
    return out;
  }
  /** Aggregated levels of a side, best first (at most maxLevels). */
  depth(side: Side, maxLevels = Infinity): LevelView[] {
    const out: LevelView[] = [];
    const levels = (side === Side.Buy ? this.bids : this.asks).levels;
    for (let i = levels.length - 1; i >= 0 && out.length < maxLevels; i--) {
      const l = levels[i]!;
      out.push({ price: l.price, size: l.total, orders: l.count });
    }
    return out;
  }
  /** Total resting size of a side in lots. */
  sideSize(side: Side): number {
    return (side === Side.Buy ? this.bids : this.asks).total;
  }
  /** Resting orders of one account. */
  openOrderCount(accountId: number): number {
    this.indexAccounts();
    return this.accounts.get(accountId)?.count ?? 0;
  }
  /** Running 64-bit hash over every emitted event, 16 lowercase hex chars (see README). */
  stateHash(): string {
    return this.hash.hex();
  }

  // ---------------------------------------------------------------- snapshot

  /**
   * Deterministic byte encoding of the whole state (see README "Snapshot format"). Equal states give equal
   * bytes; restore(snapshot()) continues with identical events and hash.
   */
  snapshot(): Uint8Array {
    const w = new ByteWriter(64 + this.byId.size * 24);
    for (const b of SNAPSHOT_MAGIC) w.byte(b);
    w.uint(SNAPSHOT_VERSION);
    const c = this.cfg;
    w.uint(c.marketId);
    w.uint(c.minSize);
    w.uint(c.minNotional);
    w.uint(c.maxOpenOrdersPerAccount);
    w.uint(c.priceBandBps);
    w.uint(c.initialReferencePrice);
    w.uint(c.maxTimestampStep);
    w.uint(c.orderIdSources);
    w.uint(this.seq);
    w.uint(this.now);
    w.uint(this.lastPrice);
    w.uint(this.hash.a >>> 0);
    w.uint(this.hash.b >>> 0);
    w.uint(this.maxOrderId);
    for (const m of this.sourceMarks) w.uint(m);
    for (const bs of [this.bids, this.asks]) {
      const levels = bs.levels;
      w.uint(levels.length);
      for (let i = levels.length - 1; i >= 0; i--) {
        const l = levels[i]!;
        w.uint(l.price);
        w.uint(l.count);
        for (let o = l.head; o !== null; o = o.next) {
          w.uint(o.id);
          w.uint(o.account);
          w.uint(o.remaining);
          w.uint(o.tif);
          w.uint(o.expiresAt);
          w.uint(o.stp);
          w.uint(o.postOnly ? 1 : 0);
        }
      }
    }
    const owners = this.sortedOwners();
    w.uint(distinctRuns(owners));
    for (let i = 0; i < owners.length; ) {
      const j = runEnd(owners, i);
      w.uint(owners[i]!);
      w.uint(j - i);
      i = j;
    }
    return w.finish();
  }

  /**
   * snapshot() cut into consecutive pieces of at most maxChunkBytes each, for transports with a message
   * size limit (Kafka's default is 1 MiB; a book of 1M orders takes ~20 MiB). Concatenated they are exactly
   * snapshot(); restore() accepts the list. Framing (count, order, integrity) is the transport's concern.
   */
  snapshotChunks(maxChunkBytes: number): Uint8Array[] {
    if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes < 1) throw new RangeError(`maxChunkBytes must be a positive integer, got ${maxChunkBytes}`);
    const all = this.snapshot();
    const out: Uint8Array[] = [];
    for (let at = 0; at < all.length; at += maxChunkBytes) out.push(all.subarray(at, Math.min(all.length, at + maxChunkBytes)));
    return out;
  }

  /** Rebuild a book from snapshot() (or snapshotChunks(), in order); throws OrderBookError('INVALID_SNAPSHOT'). */
  static restore(snapshot: Uint8Array | readonly Uint8Array[], sink: EventSink = new NullSink()): OrderBook {
    const bytes = snapshot instanceof Uint8Array ? snapshot : concat(snapshot);
    const r = new ByteReader(bytes, 'INVALID_SNAPSHOT');
    for (const b of SNAPSHOT_MAGIC) if (r.byte() !== b) r.fail('bad magic');
    const version = r.uint();
    if (version < 1 || version > SNAPSHOT_VERSION) r.fail(`unsupported snapshot version ${version}`);
    const base = {
      marketId: r.uint(),
      minSize: r.uint(),
      minNotional: r.uint(),
      maxOpenOrdersPerAccount: r.uint(),
      priceBandBps: r.uint(),
      initialReferencePrice: r.uint(),
    };
    let cfg: MarketConfig = base;
    if (version === 2) {
      const maxTimestampStep = r.uint();
      const unique = r.uint();
      if (unique > 1) r.fail('bad uniqueOrderIds flag');
      cfg = { ...base, maxTimestampStep, uniqueOrderIds: unique === 1 };
    } else if (version >= 3) {
      const maxTimestampStep = r.uint();
      cfg = { ...base, maxTimestampStep, orderIdSources: r.uint() };
    }
    let book: OrderBook;
    try {
      book = new OrderBook(cfg, sink);
    } catch (e) {
      if (e instanceof OrderBookError) r.fail(e.message);
      throw e;
    }
    book.seq = r.uint();
    book.now = r.uint();
    book.lastPrice = r.uint();
    const a = r.uint();
    const b = r.uint();
    if (a > 0xffffffff || b > 0xffffffff) r.fail('bad hash');
    book.hash.a = a | 0;
    book.hash.b = b | 0;
    // Version 1 kept no high-water mark: the largest resting id is the best lower bound it allows (below).
    const maxOrderId = version >= 2 ? r.uint() : 0;
    // Version 2 had one mark (the flag means one source); version 3 one per source.
    const sources = book.cfg.orderIdSources;
    const marks = version >= 3 ? Array.from({ length: sources }, () => r.uint()) : sources > 0 ? [maxOrderId] : [];
    marks.forEach((m, i) => {
      if (m > maxOrderId || (m !== 0 && m % sources !== i)) r.fail(`order-id mark ${m} of source ${i} does not fit the high-water mark ${maxOrderId}`);
    });
    let maxResting = 0;
    for (const bs of [book.bids, book.asks]) {
      const nLevels = r.uint();
      let prevPrice = -1;
      for (let i = 0; i < nLevels; i++) {
        const price = r.uint();
        if (price <= 0) r.fail('level price must be positive');
        if (prevPrice !== -1 && (bs.sign > 0 ? price >= prevPrice : price <= prevPrice)) r.fail('levels out of order');
        prevPrice = price;
        const nOrders = r.uint();
        if (nOrders === 0) r.fail('empty level');
        // Levels arrive best first; the array keeps the best last, so insert at the front.
        const lvl = book.newLevel(bs, price);
        bs.levels.unshift(lvl);
        for (let j = 0; j < nOrders; j++) {
          const o = new Order();
          o.id = r.uint();
          o.account = r.uint();
          o.remaining = r.uint();
          const tif = r.uint();
          o.expiresAt = r.uint();
          const stp = r.uint();
          const po = r.uint();
          if (o.id === 0 || book.byId.has(o.id)) r.fail(`bad or duplicate order id ${o.id}`);
          if (o.id > maxResting) maxResting = o.id;
          if (o.remaining === 0 || price * o.remaining > MAX) r.fail('bad order size');
          if (tif !== TIF.GTC && tif !== TIF.GTT) r.fail('bad time in force');
          if (tif === TIF.GTT ? o.expiresAt <= book.now : o.expiresAt !== 0) r.fail('bad expiry');
          if (stp > 4) r.fail('bad stp mode');
          if (po > 1) r.fail('bad post-only flag');
          if (o.remaining > MAX - bs.total) r.fail('side size out of range');
          o.side = bs.side;
          o.price = price;
          o.tif = tif as TimeInForce;
          o.stp = stp as StpMode;
          o.postOnly = po === 1;
          book.append(lvl, o);
          book.register(o);
        }
      }
    }
    const owners = book.sortedOwners();
    if (r.uint() !== distinctRuns(owners)) r.fail('account counters do not match resting orders');
    for (let i = 0; i < owners.length; ) {
      const j = runEnd(owners, i);
      if (r.uint() !== owners[i] || r.uint() !== j - i) r.fail('account counters do not match resting orders');
      i = j;
    }
    if (!r.done) r.fail('trailing bytes');
    if (version >= 2 && maxOrderId < maxResting) r.fail('order-id high-water mark below a resting order id');
    book.maxOrderId = version >= 2 ? maxOrderId : maxResting;
    book.sourceMarks = marks;
    const bb = book.bestBid();
    const ba = book.bestAsk();
    if (bb !== 0 && ba !== 0 && bb >= ba) r.fail('crossed book');
    return book;
  }

  // ---------------------------------------------------------------- matching

  /** Level key bound for a limit price: a level is eligible for a taker on `side` iff level.key >= bound. */
  private limitKeyOf(side: Side, price: number): number {
    return side === Side.Buy ? -price : price;
  }

  /** Market orders: protection price (0 = none) intersected with the price band. */
  private marketLimitKey(side: Side, protection: number): number {
    let limit = protection;
    const ref = this.bandReference();
    if (ref > 0) {
      const w = this.width(ref);
      if (side === Side.Buy) {
        const hi = ref + w;
        if (limit === 0 || hi < limit) limit = hi;
      } else {
        const lo = ref - w;
        if (lo > limit) limit = lo;
      }
    }
    if (side === Side.Buy) return limit === 0 ? -Infinity : -limit;
    return limit;
  }

  /** Reference price if a band is configured, else 0. */
  private bandReference(): number {
    if (this.cfg.priceBandBps === 0) return 0;
    return this.lastPrice > 0 ? this.lastPrice : this.cfg.initialReferencePrice;
  }

  /** floor(ref * bps / 10000), exactly, without overflowing. */
  private width(ref: number): number {
    if (ref !== this.bandRef) {
      const bps = this.cfg.priceBandBps;
      this.bandWidth = Math.floor(ref / 10000) * bps + Math.floor(((ref % 10000) * bps) / 10000);
      this.bandRef = ref;
    }
    return this.bandWidth;
  }

  private outOfBand(price: number): boolean {
    const ref = this.bandReference();
    if (ref === 0) return false;
    const w = this.width(ref);
    return price > ref + w || price < ref - w;
  }

  private wouldTake(side: Side, limitKey: number): boolean {
    const opp = side === Side.Buy ? this.asks.levels : this.bids.levels;
    return opp.length > 0 && opp[opp.length - 1]!.key >= limitKey;
  }

  /** FOK pre-check: true iff executing now would trade the full size (self-trade prevention included). */
  private fokFillable(t: Order, limitKey: number): boolean {
    let need = t.remaining;
    const opp = t.side === Side.Buy ? this.asks.levels : this.bids.levels;
    const stp = t.stp;
    for (let i = opp.length - 1; i >= 0; i--) {
      const lvl = opp[i]!;
      if (lvl.key < limitKey) return false;
      if (stp === STP.None) {
        need -= lvl.total;
        if (need <= 0) return true;
        continue;
      }
      for (let m = lvl.head; m !== null; m = m.next) {
        if (m.account === t.account) {
          // Cancel-oldest removes the maker and goes on; every other mode ends the taker before it fills.
          if (stp === STP.CancelOldest) continue;
          return false;
        }
        need -= m.remaining;
        if (need <= 0) return true;
      }
    }
    return false;
  }

  /**
   * Matches taker `t` against the opposite side while levels are eligible (key >= limitKey). Emits trades,
   * maker done / STP events and one level event per touched level. Returns STOPPED when self-trade
   * prevention ended the taker (its done event is then emitted by finishTaker with stopRelease).
   */
  private match(t: Order, limitKey: number, ts: number): number {
    const bs = t.side === Side.Buy ? this.asks : this.bids;
    const opp = bs.levels;
    const stp = t.stp;
    let status = 0;
    while (t.remaining > 0) {
      const n = opp.length;
      if (n === 0) break;
      const lvl = opp[n - 1]!;
      if (lvl.key < limitKey) break;
      const price = lvl.price;
      let touched = false;
      let m = lvl.head;
      while (m !== null && t.remaining > 0) {
        const next = m.next;
        if (m.account === t.account && stp !== STP.None) {
          if (stp === STP.CancelNewest) {
            this.stopRelease = t.remaining;
            status = STOPPED;
            break;
          }
          touched = true;
          if (stp === STP.CancelOldest || stp === STP.CancelBoth) {
            const rem = m.remaining;
            this.unlink(m);
            this.eDone(ts, m.id, m.account, DR.SELF_TRADE, rem);
            this.retire(m);
            if (stp === STP.CancelBoth) {
              this.stopRelease = t.remaining;
              status = STOPPED;
              break;
            }
            m = next;
            continue;
          }
          // Decrement and cancel: both shrink by the overlap, no trade; whichever reaches zero is cancelled.
          const q = m.remaining < t.remaining ? m.remaining : t.remaining;
          if (m.remaining === q) {
            this.unlink(m);
            this.eDone(ts, m.id, m.account, DR.SELF_TRADE, q);
            this.retire(m);
          } else {
            m.remaining -= q;
            lvl.total -= q;
            bs.total -= q;
            this.eAmended(ts, m.id, m.account, price, m.remaining, AR.SELF_TRADE_DECREMENT);
          }
          t.remaining -= q;
          if (t.remaining === 0) {
            this.stopRelease = q;
            status = STOPPED;
            break;
          }
          this.eAmended(ts, t.id, t.account, t.price, t.remaining, AR.SELF_TRADE_DECREMENT);
          m = next;
          continue;
        }
        touched = true;
        const q = m.remaining < t.remaining ? m.remaining : t.remaining;
        m.remaining -= q;
        t.remaining -= q;
        lvl.total -= q;
        bs.total -= q;
        this.lastPrice = price;
        this.eTrade(ts, m, t, price, q);
        if (m.remaining === 0) {
          this.unlink(m);
          this.eDone(ts, m.id, m.account, DR.FILLED, 0);
          this.retire(m);
        }
        m = next;
      }
      if (touched) this.eLevel(ts, bs.side, price, lvl.total);
      if (lvl.count === 0) {
        opp.pop();
        this.levelPool.push(lvl);
      }
      if (status !== 0) break;
    }
    return status;
  }

  /** Final outcome of a taker after match(): done (self-trade / filled / unfilled) or rest in the book. */
  private finishTaker(t: Order, status: number, restable: boolean, ts: number): void {
    if (status !== 0) {
      this.eDone(ts, t.id, t.account, DR.SELF_TRADE, this.stopRelease);
    } else if (t.remaining === 0) {
      this.eDone(ts, t.id, t.account, DR.FILLED, 0);
    } else if (restable) {
      const bs = t.side === Side.Buy ? this.bids : this.asks;
      const lvl = this.levelFor(bs, t.price);
      this.append(lvl, t);
      if (!t.live) this.register(t);
      this.eLevel(ts, t.side, t.price, lvl.total);
      return;
    } else {
      this.eDone(ts, t.id, t.account, DR.UNFILLED, t.remaining);
    }
    this.retire(t);
  }

  /** Cancel / expire a resting order: done event, then the level's new total. */
  private removeResting(o: Order, reason: DoneReason, ts: number): void {
    const lvl = o.level!;
    const rem = o.remaining;
    this.unlink(o);
    this.eDone(ts, o.id, o.account, reason, rem);
    this.eLevel(ts, o.side, lvl.price, lvl.total);
    if (lvl.count === 0) this.removeLevel(lvl);
    this.retire(o);
  }

  /** Validates the timestamp, advances the clock and expires due GTT orders. */
  private advance(ts: number, command: CommandType, orderId: number, accountId: number): boolean {
    const step = this.cfg.maxTimestampStep;
    if (!isSafeNonNegative(ts) || ts < this.now || (step > 0 && this.now > 0 && ts - this.now > step)) {
      const reason = !isSafeNonNegative(ts)
        ? RR.INVALID_TIMESTAMP
        : ts < this.now
          ? RR.TIMESTAMP_REGRESSION
          : RR.TIMESTAMP_TOO_FAR_AHEAD;
      this.eRejected(this.now, command, sanitizeId(orderId), sanitizeId(accountId), reason);
      return false;
    }
    this.now = ts;
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.expiresAt <= ts) this.removeResting(heap[0]!, DR.EXPIRED, ts);
    return true;
  }

  // ---------------------------------------------------------------- structure

  private newLevel(bs: BookSide, price: number): Level {
    const lvl = this.levelPool.pop() ?? new Level(bs);
    lvl.book = bs;
    lvl.price = price;
    lvl.key = price * bs.sign;
    lvl.total = 0;
    lvl.count = 0;
    lvl.head = null;
    lvl.tail = null;
    return lvl;
  }

  /** Existing or new level of `price` on side `bs`. */
  private levelFor(bs: BookSide, price: number): Level {
    const levels = bs.levels;
    const key = price * bs.sign;
    const n = levels.length;
    if (n === 0 || levels[n - 1]!.key < key) {
      const lvl = this.newLevel(bs, price);
      levels.push(lvl);
      return lvl;
    }
    const top = levels[n - 1]!;
    if (top.key === key) return top;
    const i = lowerBound(levels, key);
    if (i < n && levels[i]!.key === key) return levels[i]!;
    const lvl = this.newLevel(bs, price);
    levels.splice(i, 0, lvl);
    return lvl;
  }

  private removeLevel(lvl: Level): void {
    const levels = lvl.book.levels;
    const n = levels.length;
    if (levels[n - 1] === lvl) levels.pop();
    else levels.splice(lowerBound(levels, lvl.key), 1);
    this.levelPool.push(lvl);
  }

  private append(lvl: Level, o: Order): void {
    o.level = lvl;
    o.next = null;
    o.prev = lvl.tail;
    if (lvl.tail === null) lvl.head = o;
    else lvl.tail.next = o;
    lvl.tail = o;
    lvl.count++;
    lvl.total += o.remaining;
    lvl.book.total += o.remaining;
  }

  /** Removes o from its level FIFO (the level itself stays, even if empty). */
  private unlink(o: Order): void {
    const lvl = o.level!;
    if (o.prev === null) lvl.head = o.next;
    else o.prev.next = o.next;
    if (o.next === null) lvl.tail = o.prev;
    else o.next.prev = o.prev;
    o.prev = null;
    o.next = null;
    o.level = null;
    lvl.count--;
    lvl.total -= o.remaining;
    lvl.book.total -= o.remaining;
  }

  /** Registers a resting order: id map, account list and counter (when indexed), expiry heap. */
  private register(o: Order): void {
    o.live = true;
    this.byId.set(o.id, o);
    if (this.accountIndexed) this.linkAccount(o);
    if (o.tif === TIF.GTT) this.heapPush(o);
  }

  /** Builds the per-account lists from the resting orders, once (see accountIndexed). */
  private indexAccounts(): void {
    if (this.accountIndexed) return;
    this.accountIndexed = true;
    for (const bs of [this.bids, this.asks]) {
      for (const lvl of bs.levels) for (let o = lvl.head; o !== null; o = o.next) this.linkAccount(o);
    }
  }

  /**
   * Owners of all resting orders, sorted (runs of equal ids give the per-account counts of the snapshot's
   * accounts section; no index needed). Sorting a typed array is native and allocation-light: a Map of a
   * million accounts made this a quarter of the time of snapshotting a 1M-order book.
   */
  private sortedOwners(): Float64Array {
    const owners = new Float64Array(this.byId.size);
    let n = 0;
    for (const bs of [this.bids, this.asks]) {
      for (const lvl of bs.levels) for (let o = lvl.head; o !== null; o = o.next) owners[n++] = o.account;
    }
    return owners.sort();
  }

  private linkAccount(o: Order): void {
    let a = this.accounts.get(o.account);
    if (a === undefined) {
      a = this.accountPool.pop() ?? new Account();
      a.id = o.account;
      a.count = 0;
      a.head = null;
      this.accounts.set(o.account, a);
    }
    o.acct = a;
    o.acctPrev = null;
    o.acctNext = a.head;
    if (a.head !== null) a.head.acctPrev = o;
    a.head = o;
    a.count++;
  }

  /** Unregisters (if registered) and returns the node to the pool. */
  private retire(o: Order): void {
    if (o.live) {
      o.live = false;
      this.byId.delete(o.id);
      const a = o.acct;
      if (a !== null) {
        if (o.acctPrev === null) a.head = o.acctNext;
        else o.acctPrev.acctNext = o.acctNext;
        if (o.acctNext !== null) o.acctNext.acctPrev = o.acctPrev;
        o.acctPrev = null;
        o.acctNext = null;
        o.acct = null;
        if (--a.count === 0) {
          this.accounts.delete(a.id);
          this.accountPool.push(a);
        }
      }
      if (o.heapIndex >= 0) this.heapRemove(o);
    }
    this.orderPool.push(o);
  }

  private heapPush(o: Order): void {
    const h = this.heap;
    o.heapIndex = h.length;
    h.push(o);
    this.siftUp(o.heapIndex);
  }

  private heapRemove(o: Order): void {
    const h = this.heap;
    const i = o.heapIndex;
    const last = h.pop()!;
    o.heapIndex = -1;
    if (last !== o) {
      h[i] = last;
      last.heapIndex = i;
      this.siftUp(i);
      this.siftDown(last.heapIndex);
    }
  }

  private siftUp(i0: number): void {
    const h = this.heap;
    let i = i0;
    const o = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const po = h[p]!;
      if (!orderBefore(o, po)) break;
      h[i] = po;
      po.heapIndex = i;
      i = p;
    }
    h[i] = o;
    o.heapIndex = i;
  }

  private siftDown(i0: number): void {
    const h = this.heap;
    const n = h.length;
    let i = i0;
    const o = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && orderBefore(h[r]!, h[l]!) ? r : l;
      const co = h[c]!;
      if (!orderBefore(co, o)) break;
      h[i] = co;
      co.heapIndex = i;
      i = c;
    }
    h[i] = o;
    o.heapIndex = i;
  }

  // ---------------------------------------------------------------- events (sequence + hash + sink)

  private eAccepted(
    ts: number,
    orderId: number,
    accountId: number,
    side: Side,
    orderType: OrderType,
    tif: TimeInForce,
    price: number,
    size: number,
  ): void {
    const seq = ++this.seq;
    this.hash.accepted(seq, ts, orderId, accountId, side, orderType, tif, price, size);
    this.sink.onAccepted(seq, ts, orderId, accountId, side, orderType, tif, price, size);
  }

  private eRejected(ts: number, command: CommandType, orderId: number, accountId: number, reason: RejectReason): void {
    const seq = ++this.seq;
    this.hash.rejected(seq, ts, command, orderId, accountId, reason);
    this.sink.onRejected(seq, ts, command, orderId, accountId, reason);
  }

  private eTrade(ts: number, m: Order, t: Order, price: number, size: number): void {
    const seq = ++this.seq;
    this.hash.trade(seq, ts, m.id, m.account, t.id, t.account, t.side, price, size);
    this.sink.onTrade(seq, ts, m.id, m.account, t.id, t.account, t.side, price, size);
  }

  private eDone(ts: number, orderId: number, accountId: number, reason: DoneReason, remaining: number): void {
    const seq = ++this.seq;
    this.hash.done(seq, ts, orderId, accountId, reason, remaining);
    this.sink.onDone(seq, ts, orderId, accountId, reason, remaining);
  }

  private eAmended(ts: number, orderId: number, accountId: number, price: number, size: number, reason: AmendReason): void {
    const seq = ++this.seq;
    this.hash.amended(seq, ts, orderId, accountId, price, size, reason);
    this.sink.onAmended(seq, ts, orderId, accountId, price, size, reason);
  }

  private eLevel(ts: number, side: Side, price: number, size: number): void {
    const seq = ++this.seq;
    this.hash.level(seq, ts, side, price, size);
    this.sink.onLevel(seq, ts, side, price, size);
  }
}

/** End (exclusive) of the run of values equal to sorted[i]. */
function runEnd(sorted: Float64Array, i: number): number {
  const v = sorted[i];
  let j = i + 1;
  while (j < sorted.length && sorted[j] === v) j++;
  return j;
}

function distinctRuns(sorted: Float64Array): number {
  let n = 0;
  for (let i = 0; i < sorted.length; i = runEnd(sorted, i)) n++;
  return n;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function lowerBound(levels: readonly Level[], key: number): number {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (levels[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function view(o: Order): OrderView {
  return {
    orderId: o.id,
    accountId: o.account,
    side: o.side,
    price: o.price,
    remaining: o.remaining,
    tif: o.tif,
    expiresAt: o.expiresAt,
    postOnly: o.postOnly,
    stp: o.stp,
  };
}
