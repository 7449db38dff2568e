// Deterministic, seeded order-book workload, generated once and replayed identically on every book.
//
// A fair value follows a Gaussian random walk; limit orders are placed on the integer tick grid around it
// (Box-Muller offsets), market orders take liquidity, and cancels always name an order that is resting at
// that moment. Which orders rest is known because generation runs its own small price-time book (SimBook)
// alongside; that model's trades and final depth are kept as a third opinion for the checks.

import { Prng } from '../prng.js';
import { TradeTape } from './trade-tape.js';

export const OP_LIMIT = 0;
export const OP_MARKET = 1;
export const OP_CANCEL = 2;
export const SIDE_BUY = 0;
export const SIDE_SELL = 1;

/** Price level aggregate, best first: [price in ticks, resting size in lots]. */
export type DepthLevel = readonly [price: number, size: number];

export interface Depth {
  readonly bids: readonly DepthLevel[];
  readonly asks: readonly DepthLevel[];
}

export interface WorkloadParams {
  readonly seed: number;
  readonly ops: number;
  /** Fractions of limit / market orders; the rest are cancels. */
  readonly limitShare: number;
  readonly marketShare: number;
  /** Fair value at the start, in ticks. */
  readonly startMid: number;
  /** Standard deviation of the fair value's step per operation, in ticks. */
  readonly midStep: number;
  /** Mean and standard deviation of a limit order's distance behind the fair value, in ticks. */
  readonly limitOffsetMean: number;
  readonly limitOffsetSd: number;
  /**
   * Resting orders the book hovers around. With a fixed 30% cancel share the depth of a book has no
   * natural equilibrium (it drains to a few orders or grows without bound), so limit prices lean passive
   * while the book is below this depth and aggressive (more of them cross) above it, by up to
   * depthGain ticks. The operation mix itself is never adjusted.
   */
  readonly targetDepth: number;
  readonly depthGain: number;
  /** Mean size of limit / market orders in lots (sizes are 1 + exponential). */
  readonly limitSizeMean: number;
  readonly marketSizeMean: number;
  /**
   * Buyers use accounts [1, accounts], sellers [accounts + 1, 2 * accounts]: no self-trade can occur.
   * 0 = every order from its own account (account id = order id), where per-account bookkeeping costs most.
   */
  readonly accounts: number;
}

export const DEFAULT_WORKLOAD: Omit<WorkloadParams, 'seed' | 'ops'> = {
  limitShare: 0.6,
  marketShare: 0.1,
  startMid: 100_000,
  midStep: 0.05,
  limitOffsetMean: 5,
  limitOffsetSd: 8,
  targetDepth: 4_000,
  depthGain: 12,
  limitSizeMean: 10,
  marketSizeMean: 12,
  accounts: 500,
};

/** A named workload shape of the benchmark (issue 14): what it stresses and the parameters that make it. */
export interface Shape {
  readonly name: string;
  readonly title: string;
  readonly params: Omit<WorkloadParams, 'seed' | 'ops'>;
}

/**
 * The measured shapes. normal: ~5,000 resting orders on ~100 levels, one account per order. deep: 87%
 * limit / 3% cancel, ~100,000 resting orders on ~200 levels. active: the normal book traded by 300
 * accounts (150 buyers, 150 sellers), each with many resting orders.
 */
export const SHAPES: readonly Shape[] = [
  {
    name: 'normal',
    title: 'normal book, one account per order',
    params: { ...DEFAULT_WORKLOAD, limitSizeMean: 25, marketSizeMean: 50, targetDepth: 7_000, limitOffsetMean: 12, limitOffsetSd: 14, depthGain: 12, accounts: 0 },
  },
  {
    name: 'deep',
    title: 'deep book (~100k resting), one account per order',
    params: {
      ...DEFAULT_WORKLOAD,
      limitShare: 0.87,
      marketShare: 0.1,
      limitSizeMean: 25,
      marketSizeMean: 50,
      targetDepth: 110_000,
      limitOffsetMean: 20,
      limitOffsetSd: 15,
      depthGain: 50,
      accounts: 0,
    },
  },
  {
    name: 'active',
    title: 'normal book, 300 very active accounts',
    params: { ...DEFAULT_WORKLOAD, limitSizeMean: 25, marketSizeMean: 50, targetDepth: 7_000, limitOffsetMean: 12, limitOffsetSd: 14, depthGain: 12, accounts: 150 },
  },
];

/**
 * One operation per index (struct of arrays, so a 1M-op workload costs ~17 MB and no per-op objects).
 * kind: OP_*; side: SIDE_*; id: the new order's id (limit, market) or the cancelled order's id (cancel);
 * price: ticks (limit only, else 0); size: lots (0 for cancel); account: owner of the order.
 */
export interface Workload {
  readonly params: WorkloadParams;
  readonly count: number;
  readonly kind: Uint8Array;
  readonly side: Uint8Array;
  readonly id: Int32Array;
  readonly price: Int32Array;
  readonly size: Int32Array;
  readonly account: Int32Array;
  /** What the generator's own model saw: the reference for trades and final state. */
  readonly expected: WorkloadExpectation;
}

export interface WorkloadExpectation {
  readonly limits: number;
  readonly markets: number;
  readonly cancels: number;
  readonly trades: number;
  readonly tradedLots: number;
  readonly tradeHash: string;
  readonly restingOrders: number;
  readonly maxRestingOrders: number;
  readonly meanRestingOrders: number;
  readonly maxLevelQueue: number;
  readonly finalDepth: Depth;
}

export function generateWorkload(seed: number, ops: number, overrides: Partial<WorkloadParams> = {}): Workload {
  const params: WorkloadParams = { ...DEFAULT_WORKLOAD, ...overrides, seed, ops };
  const rng = new Prng(seed);
  const kind = new Uint8Array(ops);
  const side = new Uint8Array(ops);
  const id = new Int32Array(ops);
  const price = new Int32Array(ops);
  const size = new Int32Array(ops);
  const account = new Int32Array(ops);
  const book = new SimBook(ops + 1);
  const ownerOf = new Int32Array(ops + 1);

  let mid = params.startMid;
  let nextId = 1;
  let limits = 0;
  let markets = 0;
  let cancels = 0;
  let maxResting = 0;
  let restingSum = 0;

  for (let i = 0; i < ops; i++) {
    if (book.restingCount > maxResting) maxResting = book.restingCount;
    restingSum += book.restingCount;
    mid += rng.nextNormal() * params.midStep;
    const r = rng.nextFloat();
    const s = rng.nextU32() & 1;
    if (r >= params.limitShare + params.marketShare && book.restingCount > 0) {
      // cancel a uniformly chosen order among those resting right now
      const target = book.restingAt(rng.nextInt(book.restingCount));
      kind[i] = OP_CANCEL;
      side[i] = book.sideOf(target);
      id[i] = target;
      account[i] = ownerOf[target]!;
      book.cancel(target);
      cancels++;
      continue;
    }
    const orderId = nextId++;
    const acct =
      params.accounts === 0
        ? orderId
        : s === SIDE_BUY
          ? 1 + rng.nextInt(params.accounts)
          : params.accounts + 1 + rng.nextInt(params.accounts);
    ownerOf[orderId] = acct;
    side[i] = s;
    id[i] = orderId;
    account[i] = acct;
    if (r >= params.limitShare && r < params.limitShare + params.marketShare) {
      const qty = 1 + Math.floor(-Math.log(1 - rng.nextFloat()) * params.marketSizeMean);
      kind[i] = OP_MARKET;
      size[i] = qty;
      book.take(s, orderId, qty, -1);
      markets++;
    } else {
      const lean = Math.max(-1, Math.min(1, 1 - book.restingCount / params.targetDepth)) * params.depthGain;
      const distance = params.limitOffsetMean + lean + rng.nextNormal() * params.limitOffsetSd;
      const px = Math.max(1, Math.round(s === SIDE_BUY ? mid - distance : mid + distance));
      const qty = 1 + Math.floor(-Math.log(1 - rng.nextFloat()) * params.limitSizeMean);
      kind[i] = OP_LIMIT;
      price[i] = px;
      size[i] = qty;
      book.take(s, orderId, qty, px);
      limits++;
    }
  }

  return {
    params,
    count: ops,
    kind,
    side,
    id,
    price,
    size,
    account,
    expected: expectedOf(book, { limits, markets, cancels }, maxResting, ops > 0 ? restingSum / ops : 0),
  };
}

/** What the model book says every book under test must reproduce. */
function expectedOf(
  book: SimBook,
  mix: { limits: number; markets: number; cancels: number },
  maxRestingOrders: number,
  meanRestingOrders: number,
): WorkloadExpectation {
  return {
    ...mix,
    trades: book.tape.count,
    tradedLots: book.tape.volume,
    tradeHash: book.tape.digest(),
    restingOrders: book.restingCount,
    maxRestingOrders,
    meanRestingOrders,
    maxLevelQueue: book.maxQueue,
    finalDepth: book.depth(),
  };
}

/** One operation written by hand (tests, examples): new orders get ids 1, 2, 3... in order. */
export type OpSpec =
  | { readonly kind: 'limit'; readonly side: 'buy' | 'sell'; readonly price: number; readonly size: number }
  | { readonly kind: 'market'; readonly side: 'buy' | 'sell'; readonly size: number }
  | { readonly kind: 'cancel'; readonly orderId: number };

/** A workload from an explicit operation list (buyers are account 1, sellers account 2). */
export function workloadFromOps(ops: readonly OpSpec[]): Workload {
  const n = ops.length;
  const w = {
    kind: new Uint8Array(n),
    side: new Uint8Array(n),
    id: new Int32Array(n),
    price: new Int32Array(n),
    size: new Int32Array(n),
    account: new Int32Array(n),
  };
  const book = new SimBook(n + 1);
  let nextId = 1;
  let limits = 0;
  let markets = 0;
  let cancels = 0;
  let maxResting = 0;
  let restingSum = 0;
  ops.forEach((op, i) => {
    maxResting = Math.max(maxResting, book.restingCount);
    restingSum += book.restingCount;
    if (op.kind === 'cancel') {
      if (op.orderId < 1 || op.orderId >= nextId || !book.isResting(op.orderId)) throw new Error(`op ${i}: order ${op.orderId} is not resting`);
      w.kind[i] = OP_CANCEL;
      w.side[i] = book.sideOf(op.orderId);
      w.id[i] = op.orderId;
      w.account[i] = book.sideOf(op.orderId) === SIDE_BUY ? 1 : 2;
      book.cancel(op.orderId);
      cancels++;
      return;
    }
    const s = op.side === 'buy' ? SIDE_BUY : SIDE_SELL;
    const orderId = nextId++;
    w.side[i] = s;
    w.id[i] = orderId;
    w.account[i] = s === SIDE_BUY ? 1 : 2;
    w.size[i] = op.size;
    if (op.kind === 'limit') {
      w.kind[i] = OP_LIMIT;
      w.price[i] = op.price;
      book.take(s, orderId, op.size, op.price);
      limits++;
    } else {
      w.kind[i] = OP_MARKET;
      book.take(s, orderId, op.size, -1);
      markets++;
    }
  });
  return {
    params: { ...DEFAULT_WORKLOAD, seed: 0, ops: n },
    count: n,
    ...w,
    expected: expectedOf(book, { limits, markets, cancels }, maxResting, n > 0 ? restingSum / n : 0),
  };
}

interface SimLevel {
  readonly price: number;
  /** Order ids in time priority; cancelled entries stay until they reach the head (lazy deletion). */
  ids: number[];
  head: number;
  live: number;
  volume: number;
}

/** Minimal price-time priority book over integer ticks and lots, used only to drive generation. */
class SimBook {
  readonly tape = new TradeTape();
  restingCount = 0;
  maxQueue = 0;
  private readonly remaining: Int32Array;
  private readonly priceOf: Int32Array;
  private readonly sides: Uint8Array;
  private readonly resting: Int32Array;
  private readonly slot: Int32Array;
  private readonly levels = new Map<number, SimLevel>();
  /** Level prices with the best at the end: bids ascending, asks descending. */
  private readonly bidPrices: number[] = [];
  private readonly askPrices: number[] = [];

  constructor(capacity: number) {
    this.remaining = new Int32Array(capacity);
    this.priceOf = new Int32Array(capacity);
    this.sides = new Uint8Array(capacity);
    this.resting = new Int32Array(capacity);
    this.slot = new Int32Array(capacity).fill(-1);
  }

  restingAt(index: number): number {
    return this.resting[index]!;
  }

  isResting(orderId: number): boolean {
    return this.slot[orderId]! >= 0;
  }

  sideOf(orderId: number): number {
    return this.sides[orderId]!;
  }

  /** Match an incoming order; limitPrice < 0 means a market order (never rests). */
  take(side: number, takerId: number, qty: number, limitPrice: number): void {
    const opposite = side === SIDE_BUY ? this.askPrices : this.bidPrices;
    let left = qty;
    while (left > 0 && opposite.length > 0) {
      const best = opposite[opposite.length - 1]!;
      if (limitPrice >= 0 && (side === SIDE_BUY ? best > limitPrice : best < limitPrice)) break;
      const level = this.levels.get(best)!;
      while (left > 0 && level.live > 0) {
        const makerId = level.ids[level.head]!;
        const makerLeft = this.remaining[makerId]!;
        if (makerLeft === 0) {
          level.head++;
          continue;
        }
        const fill = makerLeft < left ? makerLeft : left;
        this.tape.add(makerId, takerId, best, fill);
        left -= fill;
        level.volume -= fill;
        this.remaining[makerId] = makerLeft - fill;
        if (makerLeft === fill) {
          level.head++;
          level.live--;
          this.unlist(makerId);
        }
      }
      if (level.live === 0) {
        opposite.pop();
        this.levels.delete(best);
      } else {
        this.compact(level);
      }
    }
    if (left > 0 && limitPrice >= 0) this.rest(side, takerId, left, limitPrice);
  }

  cancel(orderId: number): void {
    const px = this.priceOf[orderId]!;
    const level = this.levels.get(px)!;
    level.volume -= this.remaining[orderId]!;
    level.live--;
    this.remaining[orderId] = 0;
    this.unlist(orderId);
    if (level.live === 0) {
      this.levels.delete(px);
      const prices = this.sides[orderId] === SIDE_BUY ? this.bidPrices : this.askPrices;
      prices.splice(indexOfPrice(prices, px, this.sides[orderId] === SIDE_BUY), 1);
    } else {
      this.compact(level);
    }
  }

  depth(): Depth {
    const collect = (prices: readonly number[]): DepthLevel[] => {
      const out: DepthLevel[] = [];
      for (let i = prices.length - 1; i >= 0; i--) {
        const level = this.levels.get(prices[i]!)!;
        out.push([level.price, level.volume]);
      }
      return out;
    };
    return { bids: collect(this.bidPrices), asks: collect(this.askPrices) };
  }

  private rest(side: number, orderId: number, qty: number, px: number): void {
    this.remaining[orderId] = qty;
    this.priceOf[orderId] = px;
    this.sides[orderId] = side;
    let level = this.levels.get(px);
    if (level === undefined) {
      level = { price: px, ids: [], head: 0, live: 0, volume: 0 };
      this.levels.set(px, level);
      const prices = side === SIDE_BUY ? this.bidPrices : this.askPrices;
      prices.splice(insertionPoint(prices, px, side === SIDE_BUY), 0, px);
    }
    level.ids.push(orderId);
    level.live++;
    level.volume += qty;
    if (level.live > this.maxQueue) this.maxQueue = level.live;
    this.slot[orderId] = this.restingCount;
    this.resting[this.restingCount++] = orderId;
  }

  private unlist(orderId: number): void {
    const at = this.slot[orderId]!;
    const last = this.resting[--this.restingCount]!;
    this.resting[at] = last;
    this.slot[last] = at;
    this.slot[orderId] = -1;
  }

  private compact(level: SimLevel): void {
    while (level.head < level.ids.length && this.remaining[level.ids[level.head]!] === 0) level.head++;
    if (level.head > 64 && level.head * 2 > level.ids.length) {
      level.ids = level.ids.slice(level.head);
      level.head = 0;
    }
  }
}

/** Index where px goes in prices (ascending when ascending, else descending). */
function insertionPoint(prices: readonly number[], px: number, ascending: boolean): number {
  let lo = 0;
  let hi = prices.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    const p = prices[m]!;
    if (ascending ? p < px : p > px) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function indexOfPrice(prices: readonly number[], px: number, ascending: boolean): number {
  const at = insertionPoint(prices, px, ascending);
  if (prices[at] !== px) throw new Error(`SimBook: price level ${px} missing`);
  return at;
}
