import { ByteReader, ByteWriter } from './bytes.js';
import type { AmendOrder, CancelAll, CancelOrder, Command, ExpireOrders, PlaceOrder } from './commands.js';
import { OrderBookError } from './errors.js';
import type { EventSink } from './events.js';
import { NullSink } from './events.js';
import { StateHash } from './hash.js';
import { ABSENT, SlotMap } from './slot-map.js';
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

// Storage. Orders, levels and accounts are records in typed arrays, addressed by slot numbers, with free
// lists for reuse; links between them (FIFO neighbours, level, account list, heap position) are slot
// numbers, NIL for none. So the garbage collector sees a few dozen objects however deep the book is (with
// one object per order, a book of 150k orders made every collection trace and copy 150k objects: pauses of
// 100+ ms), and steady-state operations allocate nothing.
const NIL = -1;

// An order is one 64-byte row of one buffer, seen as doubles (od, 8 per row: four numbers, then the links)
// and as int32s (ol, 16 per row: the links from the 9th on), so matching and cancelling touch one row per
// order, as an object would, instead of one line per field array.
/** Order record, numbers: od[s * OD + D_*]. */
const OD = 8;
const D_ID = 0;
const D_ACCOUNT = 1;
const D_REMAINING = 2;
const D_PRICE = 3;
/** Order record, links and flags: ol[s * OL + L_*]. expiresAt lives in its own array (GTT only, cold). */
const OL = 16;
const L_PREV = 8;
const L_NEXT = 9; // FIFO successor; the free list's link while the slot is free
const L_LEVEL = 10;
const L_META = 11; // side | tif << 1 | stp << 3 | postOnly << 6 | live << 7
const L_HEAP = 12; // position in the expiry heap, NIL when not in it
const L_ACCT = 13; // account record, NIL when not linked into an account list
const L_ACCT_PREV = 14;
const L_ACCT_NEXT = 15;
const M_TIF_SHIFT = 1;
const M_STP_SHIFT = 3;
const M_POST_ONLY = 1 << 6;
/** Registered in byId / account list / heap (resting, or a resting order being re-matched by amend). */
const M_LIVE = 1 << 7;

/** Level record, numbers: vd[l * VD + V_*]. key = price for bids, -price for asks (best = highest key). */
const VD = 3;
const V_KEY = 0;
const V_PRICE = 1;
const V_TOTAL = 2;
/** Level record, links: vl[l * VL + W_*]. */
const VL = 4;
const W_HEAD = 0;
const W_TAIL = 1;
const W_COUNT = 2;
const W_SIDE = 3;

const INITIAL_ORDERS = 1024;
const INITIAL_LEVELS = 64;

class BookSide {
  /** Level slots sorted by ascending key; the best level is the last one (O(1) access and removal). */
  ids = new Int32Array(INITIAL_LEVELS);
  n = 0;
  /** Sum of resting sizes; kept <= MAX so every level total stays exact. */
  total = 0;
  constructor(
    readonly side: Side,
    /** +1 for bids, -1 for asks. */
    readonly sign: number,
  ) {}
}

function grownF64(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}
function grownI32(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

function isSafeNonNegative(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}
function sanitizeId(x: number): number {
  return isSafeNonNegative(x) ? x : 0;
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
  /** Order id -> order slot of every live order. */
  private readonly byId = new SlotMap(4096);
  /** Account id -> account slot (only while accountIndexed). */
  private readonly accounts = new SlotMap(256);
  /**
   * Whether resting orders are linked into per-account lists (accounts). Only the open-order cap and
   * cancel-all need them, so they are built on first need (O(resting orders), once) and kept from then on:
   * with one account per order they cost an index insert and delete per order, a third of the book's time.
   * Invisible in events, hash and snapshot (those never read the lists).
   */
  private accountIndexed: boolean;

  // Order records (see Storage above). Slots below orderTop have been used; free ones form a list.
  private od = new Float64Array(INITIAL_ORDERS * OD);
  private ol = new Int32Array(this.od.buffer);
  private expiresAt = new Float64Array(INITIAL_ORDERS);
  private orderCap = INITIAL_ORDERS;
  private orderTop = 0;
  private orderFree = NIL;
  // Level records; free level slots are a stack.
  private vd = new Float64Array(INITIAL_LEVELS * VD);
  private vl = new Int32Array(INITIAL_LEVELS * VL);
  private levelCap = INITIAL_LEVELS;
  private levelTop = 0;
  private levelFree = new Int32Array(INITIAL_LEVELS);
  private levelFreeN = 0;
  // Account records (only while accountIndexed): id, open-order count, head of its order list.
  private accountId = new Float64Array(64);
  private accountCount = new Int32Array(64);
  private accountHead = new Int32Array(64);
  private accountTop = 0;
  private accountFree = new Int32Array(64);
  private accountFreeN = 0;
  /** Binary min-heap of GTT order slots by (expiresAt, orderId). */
  private heap = new Int32Array(64);
  private heapN = 0;
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
    else if (orderId <= this.maxOrderId && this.byId.get(orderId) !== ABSENT) r = RR.DUPLICATE_ORDER_ID;
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

    const t = this.newOrder(orderId, accountId, side, price, size, tif, expiresAt, stp, postOnly);
    if (tif === TIF.FOK && !this.fokFillable(t, limitKey)) {
      this.eDone(ts, orderId, accountId, DR.KILLED, size);
      this.freeOrder(t);
      return;
    }
    const status = this.match(t, limitKey, ts);
    this.finishTaker(t, status, restable, ts);
  }

  cancel(cmd: CancelOrder): void {
    const ts = cmd.ts;
    if (!this.advance(ts, CT.Cancel, cmd.orderId, cmd.accountId)) return;
    const o = this.byId.get(cmd.orderId);
    if (o === ABSENT) {
      this.eRejected(ts, CT.Cancel, sanitizeId(cmd.orderId), sanitizeId(cmd.accountId), RR.ORDER_NOT_FOUND);
    } else if (this.od[o * OD + D_ACCOUNT] !== cmd.accountId) {
      this.eRejected(ts, CT.Cancel, this.od[o * OD + D_ID]!, sanitizeId(cmd.accountId), RR.NOT_ORDER_OWNER);
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
    if (acct === ABSENT) return;
    const list: number[] = [];
    for (let o = this.accountHead[acct]!; o !== NIL; o = this.ol[o * OL + L_ACCT_NEXT]!) list.push(o);
    const od = this.od;
    list.sort((a, b) => od[a * OD + D_ID]! - od[b * OD + D_ID]!);
    for (const o of list) this.removeResting(o, DR.CANCELLED, ts);
  }

  amend(cmd: AmendOrder): void {
    const ts = cmd.ts;
    if (!this.advance(ts, CT.Amend, cmd.orderId, cmd.accountId)) return;
    const price: number = cmd.price;
    const size: number = cmd.size;
    const cfg = this.cfg;
    const o = this.byId.get(cmd.orderId);
    const od = this.od;
    const d = o * OD;
    const meta = o === ABSENT ? 0 : this.ol[o * OL + L_META]!;
    const side = (meta & 1) as Side;
    const oldPrice = o === ABSENT ? 0 : od[d + D_PRICE]!;
    const remaining = o === ABSENT ? 0 : od[d + D_REMAINING]!;
    let r = 0;
    if (o === ABSENT) r = RR.ORDER_NOT_FOUND;
    else if (od[d + D_ACCOUNT] !== cmd.accountId) r = RR.NOT_ORDER_OWNER;
    else if (!(Number.isSafeInteger(price) && price > 0)) r = RR.INVALID_PRICE;
    else if (!(Number.isSafeInteger(size) && size > 0)) r = RR.INVALID_SIZE;
    else if (price * size > MAX) r = RR.NOTIONAL_OUT_OF_RANGE;
    else if (price === oldPrice && size === remaining) r = RR.AMEND_NO_CHANGE;
    else if (size < cfg.minSize) r = RR.SIZE_BELOW_MINIMUM;
    else if (price * size < cfg.minNotional) r = RR.NOTIONAL_BELOW_MINIMUM;
    else if (price !== oldPrice && this.outOfBand(price)) r = RR.PRICE_OUT_OF_BAND;
    else if (size > remaining && size - remaining > MAX - this.sideOf(side).total) r = RR.BOOK_SIZE_OUT_OF_RANGE;
    else if (price !== oldPrice && (meta & M_POST_ONLY) !== 0 && this.wouldTake(side, this.limitKeyOf(side, price)))
      r = RR.POST_ONLY_WOULD_TAKE;
    if (r !== 0) {
      this.eRejected(ts, CT.Amend, sanitizeId(cmd.orderId), sanitizeId(cmd.accountId), r as RejectReason);
      return;
    }
    const orderId = od[d + D_ID]!;
    this.eAmended(ts, orderId, od[d + D_ACCOUNT]!, price, size, AR.USER);
    const lvl = this.ol[o * OL + L_LEVEL]!;
    const bs = this.sideOf(side);
    if (price === oldPrice) {
      if (size < remaining) {
        // Size down: keeps its place in the queue.
        const diff = remaining - size;
        od[d + D_REMAINING] = size;
        this.vd[lvl * VD + V_TOTAL] = this.vd[lvl * VD + V_TOTAL]! - diff;
        bs.total -= diff;
      } else {
        // Size up: loses priority (back of the same level).
        this.unlink(o);
        od[d + D_REMAINING] = size;
        this.append(lvl, o);
      }
      this.eLevel(ts, side, price, this.vd[lvl * VD + V_TOTAL]!);
      return;
    }
    // Price change: leaves its level and re-enters at the new price as if new (may trade).
    this.unlink(o);
    this.eLevel(ts, side, oldPrice, this.vd[lvl * VD + V_TOTAL]!);
    if (this.vl[lvl * VL + W_COUNT] === 0) this.removeLevel(lvl);
    od[d + D_PRICE] = price;
    od[d + D_REMAINING] = size;
    const status = this.match(o, this.limitKeyOf(side, price), ts);
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
    return this.bestPrice(this.bids);
  }
  /** Best ask in ticks, 0 when the ask side is empty. */
  bestAsk(): number {
    return this.bestPrice(this.asks);
  }
  /** Number of resting orders. */
  get orderCount(): number {
    return this.byId.size;
  }
  getOrder(orderId: number): OrderView | undefined {
    const o = this.byId.get(orderId);
    return o === ABSENT ? undefined : this.view(o);
  }
  /** Resting orders of a side, best level first, FIFO within a level. */
  orders(side: Side): OrderView[] {
    const out: OrderView[] = [];
    const bs = this.sideOf(side);
    for (let i = bs.n - 1; i >= 0; i--) {
      for (let o = this.vl[bs.ids[i]! * VL + W_HEAD]!; o !== NIL; o = this.ol[o * OL + L_NEXT]!) out.push(this.view(o));
    }
    return out;
  }
  /** Aggregated levels of a side, best first (at most maxLevels). */
  depth(side: Side, maxLevels = Infinity): LevelView[] {
    const out: LevelView[] = [];
    const bs = this.sideOf(side);
    for (let i = bs.n - 1; i >= 0 && out.length < maxLevels; i--) {
      const l = bs.ids[i]!;
      out.push({ price: this.vd[l * VD + V_PRICE]!, size: this.vd[l * VD + V_TOTAL]!, orders: this.vl[l * VL + W_COUNT]! });
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
    const a = this.accounts.get(accountId);
    return a === ABSENT ? 0 : this.accountCount[a]!;
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
    const od = this.od;
    const ol = this.ol;
    for (const bs of [this.bids, this.asks]) {
      w.uint(bs.n);
      for (let i = bs.n - 1; i >= 0; i--) {
        const l = bs.ids[i]!;
        w.uint(this.vd[l * VD + V_PRICE]!);
        w.uint(this.vl[l * VL + W_COUNT]!);
        for (let o = this.vl[l * VL + W_HEAD]!; o !== NIL; o = ol[o * OL + L_NEXT]!) {
          const meta = ol[o * OL + L_META]!;
          w.uint(od[o * OD + D_ID]!);
          w.uint(od[o * OD + D_ACCOUNT]!);
          w.uint(od[o * OD + D_REMAINING]!);
          w.uint((meta >> M_TIF_SHIFT) & 3);
          w.uint(this.expiresAt[o]!);
          w.uint((meta >> M_STP_SHIFT) & 7);
          w.uint((meta & M_POST_ONLY) !== 0 ? 1 : 0);
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
        book.insertLevel(bs, 0, lvl);
        for (let j = 0; j < nOrders; j++) {
          const id = r.uint();
          const account = r.uint();
          const remaining = r.uint();
          const tif = r.uint();
          const expiresAt = r.uint();
          const stp = r.uint();
          const po = r.uint();
          if (id === 0 || book.byId.get(id) !== ABSENT) r.fail(`bad or duplicate order id ${id}`);
          if (id > maxResting) maxResting = id;
          if (remaining === 0 || price * remaining > MAX) r.fail('bad order size');
          if (tif !== TIF.GTC && tif !== TIF.GTT) r.fail('bad time in force');
          if (tif === TIF.GTT ? expiresAt <= book.now : expiresAt !== 0) r.fail('bad expiry');
          if (stp > 4) r.fail('bad stp mode');
          if (po > 1) r.fail('bad post-only flag');
          if (remaining > MAX - bs.total) r.fail('side size out of range');
          const o = book.newOrder(id, account, bs.side, price, remaining, tif, expiresAt, stp, po === 1);
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
    const opp = side === Side.Buy ? this.asks : this.bids;
    return opp.n > 0 && this.vd[opp.ids[opp.n - 1]! * VD + V_KEY]! >= limitKey;
  }

  /** FOK pre-check: true iff executing now would trade the full size (self-trade prevention included). */
  private fokFillable(t: number, limitKey: number): boolean {
    const od = this.od;
    const ol = this.ol;
    const vd = this.vd;
    const vl = this.vl;
    let need = od[t * OD + D_REMAINING]!;
    const account = od[t * OD + D_ACCOUNT]!;
    const meta = ol[t * OL + L_META]!;
    const opp = (meta & 1) === Side.Buy ? this.asks : this.bids;
    const stp = (meta >> M_STP_SHIFT) & 7;
    for (let i = opp.n - 1; i >= 0; i--) {
      const lvl = opp.ids[i]!;
      if (vd[lvl * VD + V_KEY]! < limitKey) return false;
      if (stp === STP.None) {
        need -= vd[lvl * VD + V_TOTAL]!;
        if (need <= 0) return true;
        continue;
      }
      for (let m = vl[lvl * VL + W_HEAD]!; m !== NIL; m = ol[m * OL + L_NEXT]!) {
        if (od[m * OD + D_ACCOUNT] === account) {
          // Cancel-oldest removes the maker and goes on; every other mode ends the taker before it fills.
          if (stp === STP.CancelOldest) continue;
          return false;
        }
        need -= od[m * OD + D_REMAINING]!;
        if (need <= 0) return true;
      }
    }
    return false;
  }

  /**
   * Matches taker `t` against the opposite side while levels are eligible (key >= limitKey). Emits trades,
   * maker done / STP events and one level event per touched level. Returns STOPPED when self-trade
   * prevention ended the taker (its done event is then emitted by finishTaker with stopRelease).
   * Allocates nothing (makers only go back to the free lists), so the arrays read here stay current.
   */
  private match(t: number, limitKey: number, ts: number): number {
    const od = this.od;
    const ol = this.ol;
    const vd = this.vd;
    const vl = this.vl;
    const td = t * OD;
    const meta = ol[t * OL + L_META]!;
    const takerSide = (meta & 1) as Side;
    const bs = takerSide === Side.Buy ? this.asks : this.bids;
    const stp = (meta >> M_STP_SHIFT) & 7;
    const takerId = od[td + D_ID]!;
    const takerAccount = od[td + D_ACCOUNT]!;
    let left = od[td + D_REMAINING]!;
    let status = 0;
    while (left > 0) {
      const n = bs.n;
      if (n === 0) break;
      const lvl = bs.ids[n - 1]!;
      const v = lvl * VD;
      if (vd[v + V_KEY]! < limitKey) break;
      const price = vd[v + V_PRICE]!;
      let touched = false;
      let m = vl[lvl * VL + W_HEAD]!;
      while (m !== NIL && left > 0) {
        const md = m * OD;
        const next = ol[m * OL + L_NEXT]!;
        const makerAccount = od[md + D_ACCOUNT]!;
        const makerLeft = od[md + D_REMAINING]!;
        if (makerAccount === takerAccount && stp !== STP.None) {
          if (stp === STP.CancelNewest) {
            this.stopRelease = left;
            status = STOPPED;
            break;
          }
          touched = true;
          if (stp === STP.CancelOldest || stp === STP.CancelBoth) {
            this.unlink(m);
            this.eDone(ts, od[md + D_ID]!, makerAccount, DR.SELF_TRADE, makerLeft);
            this.retire(m);
            if (stp === STP.CancelBoth) {
              this.stopRelease = left;
              status = STOPPED;
              break;
            }
            m = next;
            continue;
          }
          // Decrement and cancel: both shrink by the overlap, no trade; whichever reaches zero is cancelled.
          const q = makerLeft < left ? makerLeft : left;
          if (makerLeft === q) {
            this.unlink(m);
            this.eDone(ts, od[md + D_ID]!, makerAccount, DR.SELF_TRADE, q);
            this.retire(m);
          } else {
            od[md + D_REMAINING] = makerLeft - q;
            vd[v + V_TOTAL] = vd[v + V_TOTAL]! - q;
            bs.total -= q;
            this.eAmended(ts, od[md + D_ID]!, makerAccount, price, makerLeft - q, AR.SELF_TRADE_DECREMENT);
          }
          left -= q;
          if (left === 0) {
            this.stopRelease = q;
            status = STOPPED;
            break;
          }
          this.eAmended(ts, takerId, takerAccount, od[td + D_PRICE]!, left, AR.SELF_TRADE_DECREMENT);
          m = next;
          continue;
        }
        touched = true;
        const q = makerLeft < left ? makerLeft : left;
        od[md + D_REMAINING] = makerLeft - q;
        left -= q;
        vd[v + V_TOTAL] = vd[v + V_TOTAL]! - q;
        bs.total -= q;
        this.lastPrice = price;
        this.eTrade(ts, od[md + D_ID]!, makerAccount, takerId, takerAccount, takerSide, price, q);
        if (makerLeft === q) {
          this.unlink(m);
          this.eDone(ts, od[md + D_ID]!, makerAccount, DR.FILLED, 0);
          this.retire(m);
        }
        m = next;
      }
      if (touched) this.eLevel(ts, bs.side, price, vd[v + V_TOTAL]!);
      if (vl[lvl * VL + W_COUNT] === 0) {
        bs.n = n - 1;
        this.releaseLevel(lvl);
      }
      if (status !== 0) break;
    }
    od[td + D_REMAINING] = left;
    return status;
  }

  /** Final outcome of a taker after match(): done (self-trade / filled / unfilled) or rest in the book. */
  private finishTaker(t: number, status: number, restable: boolean, ts: number): void {
    const od = this.od;
    const id = od[t * OD + D_ID]!;
    const account = od[t * OD + D_ACCOUNT]!;
    const left = od[t * OD + D_REMAINING]!;
    if (status !== 0) {
      this.eDone(ts, id, account, DR.SELF_TRADE, this.stopRelease);
    } else if (left === 0) {
      this.eDone(ts, id, account, DR.FILLED, 0);
    } else if (restable) {
      const meta = this.ol[t * OL + L_META]!;
      const side = (meta & 1) as Side;
      const price = od[t * OD + D_PRICE]!;
      const lvl = this.levelFor(this.sideOf(side), price);
      this.append(lvl, t);
      if ((meta & M_LIVE) === 0) this.register(t);
      this.eLevel(ts, side, price, this.vd[lvl * VD + V_TOTAL]!);
      return;
    } else {
      this.eDone(ts, id, account, DR.UNFILLED, left);
    }
    this.retire(t);
  }

  /** Cancel / expire a resting order: done event, then the level's new total. */
  private removeResting(o: number, reason: DoneReason, ts: number): void {
    const od = this.od;
    const lvl = this.ol[o * OL + L_LEVEL]!;
    const left = od[o * OD + D_REMAINING]!;
    this.unlink(o);
    this.eDone(ts, od[o * OD + D_ID]!, od[o * OD + D_ACCOUNT]!, reason, left);
    this.eLevel(ts, this.vl[lvl * VL + W_SIDE]! as Side, this.vd[lvl * VD + V_PRICE]!, this.vd[lvl * VD + V_TOTAL]!);
    if (this.vl[lvl * VL + W_COUNT] === 0) this.removeLevel(lvl);
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
    while (this.heapN > 0 && this.expiresAt[this.heap[0]!]! <= ts) this.removeResting(this.heap[0]!, DR.EXPIRED, ts);
    return true;
  }

  // ---------------------------------------------------------------- structure

  private sideOf(side: Side): BookSide {
    return side === Side.Buy ? this.bids : this.asks;
  }

  private bestPrice(bs: BookSide): number {
    return bs.n === 0 ? 0 : this.vd[bs.ids[bs.n - 1]! * VD + V_PRICE]!;
  }

  /** A fresh order record (not linked anywhere, not live). */
  private newOrder(
    id: number,
    account: number,
    side: number,
    price: number,
    size: number,
    tif: number,
    expiresAt: number,
    stp: number,
    postOnly: boolean,
  ): number {
    let o = this.orderFree;
    if (o !== NIL) {
      this.orderFree = this.ol[o * OL + L_NEXT]!;
    } else {
      if (this.orderTop === this.orderCap) this.growOrders();
      o = this.orderTop++;
    }
    const od = this.od;
    const d = o * OD;
    od[d + D_ID] = id;
    od[d + D_ACCOUNT] = account;
    od[d + D_REMAINING] = size;
    od[d + D_PRICE] = price;
    this.expiresAt[o] = expiresAt;
    const ol = this.ol;
    const l = o * OL;
    ol[l + L_PREV] = NIL;
    ol[l + L_NEXT] = NIL;
    ol[l + L_LEVEL] = NIL;
    ol[l + L_HEAP] = NIL;
    ol[l + L_ACCT] = NIL;
    ol[l + L_ACCT_PREV] = NIL;
    ol[l + L_ACCT_NEXT] = NIL;
    ol[l + L_META] = side | (tif << M_TIF_SHIFT) | (stp << M_STP_SHIFT) | (postOnly ? M_POST_ONLY : 0);
    return o;
  }

  /** Doubles the order records (the only time they move; amortized O(1), no garbage left for the scavenger). */
  private growOrders(): void {
    const cap = this.orderCap * 2;
    this.od = grownF64(this.od, cap * OD);
    this.ol = new Int32Array(this.od.buffer);
    this.expiresAt = grownF64(this.expiresAt, cap);
    this.orderCap = cap;
  }

  private freeOrder(o: number): void {
    this.ol[o * OL + L_NEXT] = this.orderFree;
    this.orderFree = o;
  }

  private newLevel(bs: BookSide, price: number): number {
    let l: number;
    if (this.levelFreeN > 0) {
      l = this.levelFree[--this.levelFreeN]!;
    } else {
      if (this.levelTop === this.levelCap) {
        const cap = this.levelCap * 2;
        this.vd = grownF64(this.vd, cap * VD);
        this.vl = grownI32(this.vl, cap * VL);
        this.levelFree = grownI32(this.levelFree, cap);
        this.levelCap = cap;
      }
      l = this.levelTop++;
    }
    const vd = this.vd;
    vd[l * VD + V_KEY] = price * bs.sign;
    vd[l * VD + V_PRICE] = price;
    vd[l * VD + V_TOTAL] = 0;
    const vl = this.vl;
    vl[l * VL + W_HEAD] = NIL;
    vl[l * VL + W_TAIL] = NIL;
    vl[l * VL + W_COUNT] = 0;
    vl[l * VL + W_SIDE] = bs.side;
    return l;
  }

  private releaseLevel(l: number): void {
    this.levelFree[this.levelFreeN++] = l;
  }

  /** Inserts level l at position i of its side's sorted slots. */
  private insertLevel(bs: BookSide, i: number, l: number): void {
    if (bs.n === bs.ids.length) bs.ids = grownI32(bs.ids, bs.n * 2);
    const ids = bs.ids;
    ids.copyWithin(i + 1, i, bs.n);
    ids[i] = l;
    bs.n++;
  }

  /** Index of the first level of bs whose key is >= key. */
  private lowerBound(bs: BookSide, key: number): number {
    const ids = bs.ids;
    const vd = this.vd;
    let lo = 0;
    let hi = bs.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (vd[ids[mid]! * VD + V_KEY]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Existing or new level of `price` on side `bs`. */
  private levelFor(bs: BookSide, price: number): number {
    const key = price * bs.sign;
    const n = bs.n;
    if (n === 0 || this.vd[bs.ids[n - 1]! * VD + V_KEY]! < key) {
      const l = this.newLevel(bs, price);
      this.insertLevel(bs, n, l);
      return l;
    }
    const top = bs.ids[n - 1]!;
    if (this.vd[top * VD + V_KEY] === key) return top;
    const i = this.lowerBound(bs, key);
    if (i < n && this.vd[bs.ids[i]! * VD + V_KEY] === key) return bs.ids[i]!;
    const l = this.newLevel(bs, price);
    this.insertLevel(bs, i, l);
    return l;
  }

  private removeLevel(l: number): void {
    const bs = this.sideOf(this.vl[l * VL + W_SIDE]! as Side);
    const n = bs.n;
    if (bs.ids[n - 1] !== l) {
      const i = this.lowerBound(bs, this.vd[l * VD + V_KEY]!);
      bs.ids.copyWithin(i, i + 1, n);
    }
    bs.n = n - 1;
    this.releaseLevel(l);
  }

  private append(lvl: number, o: number): void {
    const ol = this.ol;
    const vl = this.vl;
    const w = lvl * VL;
    const tail = vl[w + W_TAIL]!;
    ol[o * OL + L_LEVEL] = lvl;
    ol[o * OL + L_NEXT] = NIL;
    ol[o * OL + L_PREV] = tail;
    if (tail === NIL) vl[w + W_HEAD] = o;
    else ol[tail * OL + L_NEXT] = o;
    vl[w + W_TAIL] = o;
    vl[w + W_COUNT] = vl[w + W_COUNT]! + 1;
    const size = this.od[o * OD + D_REMAINING]!;
    this.vd[lvl * VD + V_TOTAL] = this.vd[lvl * VD + V_TOTAL]! + size;
    this.sideOf(vl[w + W_SIDE]! as Side).total += size;
  }

  /** Removes o from its level FIFO (the level itself stays, even if empty). */
  private unlink(o: number): void {
    const ol = this.ol;
    const vl = this.vl;
    const l = o * OL;
    const lvl = ol[l + L_LEVEL]!;
    const w = lvl * VL;
    const prev = ol[l + L_PREV]!;
    const next = ol[l + L_NEXT]!;
    if (prev === NIL) vl[w + W_HEAD] = next;
    else ol[prev * OL + L_NEXT] = next;
    if (next === NIL) vl[w + W_TAIL] = prev;
    else ol[next * OL + L_PREV] = prev;
    ol[l + L_PREV] = NIL;
    ol[l + L_NEXT] = NIL;
    ol[l + L_LEVEL] = NIL;
    vl[w + W_COUNT] = vl[w + W_COUNT]! - 1;
    const size = this.od[o * OD + D_REMAINING]!;
    this.vd[lvl * VD + V_TOTAL] = this.vd[lvl * VD + V_TOTAL]! - size;
    this.sideOf(vl[w + W_SIDE]! as Side).total -= size;
  }

  /** Registers a resting order: id map, account list and counter (when indexed), expiry heap. */
  private register(o: number): void {
    const l = o * OL + L_META;
    const meta = this.ol[l]!;
    this.ol[l] = meta | M_LIVE;
    this.byId.set(this.od[o * OD + D_ID]!, o);
    if (this.accountIndexed) this.linkAccount(o);
    if (((meta >> M_TIF_SHIFT) & 3) === TIF.GTT) this.heapPush(o);
  }

  /** Builds the per-account lists from the resting orders, once (see accountIndexed). */
  private indexAccounts(): void {
    if (this.accountIndexed) return;
    this.accountIndexed = true;
    for (const bs of [this.bids, this.asks]) {
      for (let i = 0; i < bs.n; i++) {
        for (let o = this.vl[bs.ids[i]! * VL + W_HEAD]!; o !== NIL; o = this.ol[o * OL + L_NEXT]!) this.linkAccount(o);
      }
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
      for (let i = 0; i < bs.n; i++) {
        for (let o = this.vl[bs.ids[i]! * VL + W_HEAD]!; o !== NIL; o = this.ol[o * OL + L_NEXT]!) owners[n++] = this.od[o * OD + D_ACCOUNT]!;
      }
    }
    return owners.sort();
  }

  private linkAccount(o: number): void {
    const id = this.od[o * OD + D_ACCOUNT]!;
    let a = this.accounts.get(id);
    if (a === ABSENT) {
      if (this.accountFreeN > 0) {
        a = this.accountFree[--this.accountFreeN]!;
      } else {
        if (this.accountTop === this.accountId.length) {
          const cap = this.accountTop * 2;
          this.accountId = grownF64(this.accountId, cap);
          this.accountCount = grownI32(this.accountCount, cap);
          this.accountHead = grownI32(this.accountHead, cap);
          this.accountFree = grownI32(this.accountFree, cap);
        }
        a = this.accountTop++;
      }
      this.accountId[a] = id;
      this.accountCount[a] = 0;
      this.accountHead[a] = NIL;
      this.accounts.set(id, a);
    }
    const ol = this.ol;
    const l = o * OL;
    const head = this.accountHead[a]!;
    ol[l + L_ACCT] = a;
    ol[l + L_ACCT_PREV] = NIL;
    ol[l + L_ACCT_NEXT] = head;
    if (head !== NIL) ol[head * OL + L_ACCT_PREV] = o;
    this.accountHead[a] = o;
    this.accountCount[a] = this.accountCount[a]! + 1;
  }

  /** Unregisters (if registered) and returns the record to the free list. */
  private retire(o: number): void {
    const ol = this.ol;
    const l = o * OL;
    const meta = ol[l + L_META]!;
    if ((meta & M_LIVE) !== 0) {
      ol[l + L_META] = meta & ~M_LIVE;
      this.byId.delete(this.od[o * OD + D_ID]!);
      const a = ol[l + L_ACCT]!;
      if (a !== NIL) {
        const prev = ol[l + L_ACCT_PREV]!;
        const next = ol[l + L_ACCT_NEXT]!;
        if (prev === NIL) this.accountHead[a] = next;
        else ol[prev * OL + L_ACCT_NEXT] = next;
        if (next !== NIL) ol[next * OL + L_ACCT_PREV] = prev;
        ol[l + L_ACCT_PREV] = NIL;
        ol[l + L_ACCT_NEXT] = NIL;
        ol[l + L_ACCT] = NIL;
        this.accountCount[a] = this.accountCount[a]! - 1;
        if (this.accountCount[a] === 0) {
          this.accounts.delete(this.accountId[a]!);
          this.accountFree[this.accountFreeN++] = a;
        }
      }
      if (ol[l + L_HEAP] !== NIL) this.heapRemove(o);
    }
    this.freeOrder(o);
  }

  /** Expiry order: (expiresAt, orderId). */
  private before(a: number, b: number): boolean {
    const ea = this.expiresAt[a]!;
    const eb = this.expiresAt[b]!;
    return ea < eb || (ea === eb && this.od[a * OD + D_ID]! < this.od[b * OD + D_ID]!);
  }

  private heapPush(o: number): void {
    if (this.heapN === this.heap.length) this.heap = grownI32(this.heap, this.heapN * 2);
    const i = this.heapN++;
    this.heap[i] = o;
    this.ol[o * OL + L_HEAP] = i;
    this.siftUp(i);
  }

  private heapRemove(o: number): void {
    const h = this.heap;
    const ol = this.ol;
    const i = ol[o * OL + L_HEAP]!;
    const last = h[--this.heapN]!;
    ol[o * OL + L_HEAP] = NIL;
    if (last !== o) {
      h[i] = last;
      ol[last * OL + L_HEAP] = i;
      this.siftUp(i);
      this.siftDown(ol[last * OL + L_HEAP]!);
    }
  }

  private siftUp(i0: number): void {
    const h = this.heap;
    const ol = this.ol;
    let i = i0;
    const o = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const po = h[p]!;
      if (!this.before(o, po)) break;
      h[i] = po;
      ol[po * OL + L_HEAP] = i;
      i = p;
    }
    h[i] = o;
    ol[o * OL + L_HEAP] = i;
  }

  private siftDown(i0: number): void {
    const h = this.heap;
    const ol = this.ol;
    const n = this.heapN;
    let i = i0;
    const o = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      const co = h[c]!;
      if (!this.before(co, o)) break;
      h[i] = co;
      ol[co * OL + L_HEAP] = i;
      i = c;
    }
    h[i] = o;
    ol[o * OL + L_HEAP] = i;
  }

  /** A plain-object copy of a resting order's record. */
  private view(o: number): OrderView {
    const od = this.od;
    const meta = this.ol[o * OL + L_META]!;
    return {
      orderId: od[o * OD + D_ID]!,
      accountId: od[o * OD + D_ACCOUNT]!,
      side: (meta & 1) as Side,
      price: od[o * OD + D_PRICE]!,
      remaining: od[o * OD + D_REMAINING]!,
      tif: ((meta >> M_TIF_SHIFT) & 3) as TimeInForce,
      expiresAt: this.expiresAt[o]!,
      postOnly: (meta & M_POST_ONLY) !== 0,
      stp: ((meta >> M_STP_SHIFT) & 7) as StpMode,
    };
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

  private eTrade(ts: number, makerId: number, makerAccount: number, takerId: number, takerAccount: number, takerSide: Side, price: number, size: number): void {
    const seq = ++this.seq;
    this.hash.trade(seq, ts, makerId, makerAccount, takerId, takerAccount, takerSide, price, size);
    this.sink.onTrade(seq, ts, makerId, makerAccount, takerId, takerAccount, takerSide, price, size);
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
