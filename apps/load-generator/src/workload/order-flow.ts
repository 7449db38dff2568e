// One market's synthetic order flow: limit orders around a random-walk fair price, some market orders,
// cancels and amends of resting orders, occasional cancel-all and expiry sweeps.
//
// Deterministic: the sequence depends only on (seed, marketId, options); integer arithmetic only, so it is
// the same on every platform. To cancel and amend orders that really rest, the flow applies its own
// commands to a shadow OrderBook (the same deterministic book the engine runs, with defaultMarkets' permissive
// rules), exactly as a well-informed trader who sees the public feed would.
import type { Command, MarketConfig, PlaceOrder } from '@parallax/order-book';
import { deriveSeed, OrderBook, OrderType, Prng, Side, StpMode, TimeInForce } from '@parallax/order-book';

export interface WorkloadOptions {
  /** Accounts 1..accounts trade in every market. Default 1000. */
  readonly accounts?: number;
  /** Resting orders per market the flow steers towards (cancels speed up above it). Default 2000. */
  readonly targetResting?: number;
  /** Typical fair price in ticks; each market starts at a seeded value in [mid/2, 3*mid/2]. Default 100000. */
  readonly midPrice?: number;
}

/** Accounts whose id is a multiple of 5 trade without self-trade prevention; the others cancel the newest. */
export function stpModeOf(accountId: number): StpMode {
  return accountId % 5 === 0 ? StpMode.None : StpMode.CancelNewest;
}

export class MarketOrderFlow {
  private readonly rng: Prng;
  private readonly accounts: number;
  private readonly target: number;
  private readonly book: OrderBook;
  private ts = 0;
  private nextOrderId = 1;
  private mid: number;
  private readonly minMid: number;
  /** Ids of GTC/GTT orders placed and not cancelled; those that traded or expired are pruned lazily. */
  private live: number[] = [];
  /** Commands produced so far. */
  produced = 0;

  constructor(
    seed: number,
    readonly marketId: number,
    options: WorkloadOptions = {},
  ) {
    this.rng = new Prng(deriveSeed(seed, marketId));
    this.accounts = options.accounts ?? 1000;
    this.target = options.targetResting ?? 2000;
    const mid = options.midPrice ?? 100_000;
    this.mid = Math.max(100, Math.floor(mid / 2) + this.rng.nextInt(mid + 1));
    this.minMid = Math.max(100, Math.floor(this.mid / 10));
    const config: MarketConfig = { marketId, minSize: 0, minNotional: 0, maxOpenOrdersPerAccount: 0, priceBandBps: 0, initialReferencePrice: 0 };
    this.book = new OrderBook(config);
  }

  /** Orders resting in the shadow book (= the engine's book after the same commands). */
  get resting(): number {
    return this.book.orderCount;
  }

  next(): Command {
    const cmd = this.generate();
    this.book.apply(cmd);
    this.produced++;
    return cmd;
  }

  private generate(): Command {
    const rng = this.rng;
    // Logical time strictly increases (the book only needs non-decreasing).
    this.ts += 1 + rng.nextInt(3);
    if (rng.nextChance(0.25)) {
      this.mid += (rng.nextChance(0.5) ? 1 : -1) * rng.nextRange(1, 3);
      if (this.mid < this.minMid) this.mid = this.minMid;
    }
    const resting = this.book.orderCount;
    const pCancel = resting === 0 ? 0 : resting > this.target ? 0.5 : 0.22;
    if (rng.nextChance(pCancel)) {
      const c = this.cancel();
      if (c !== null) return c;
    }
    const k = rng.nextFloat();
    if (k < 0.06) {
      const a = this.amend();
      if (a !== null) return a;
    }
    if (k < 0.062) return this.cancelAll();
    if (k < 0.067) return { type: 'expire', ts: this.ts };
    if (k < 0.16) return this.marketOrder();
    return this.limitOrder();
  }

  private account(): number {
    return 1 + this.rng.nextInt(this.accounts);
  }

  private limitOrder(): PlaceOrder {
    const rng = this.rng;
    const side: Side = rng.nextInt(2) === 0 ? Side.Buy : Side.Sell;
    const aggressive = rng.nextChance(0.12);
    // Passive: 1..~53 ticks from the fair price, skewed to the touch. Aggressive: up to 5 ticks through it.
    const offset = aggressive ? -rng.nextInt(6) : 1 + rng.nextInt(8) * rng.nextInt(8) + rng.nextInt(4);
    const price = Math.max(1, side === Side.Buy ? this.mid - offset : this.mid + offset);
    const size = 1 + ((rng.nextInt(20) * rng.nextInt(20)) >> 2);
    const t = rng.nextFloat();
    const tif = t < 0.05 ? TimeInForce.IOC : t < 0.09 ? TimeInForce.GTT : TimeInForce.GTC;
    const expiresAt = tif === TimeInForce.GTT ? this.ts + rng.nextRange(50, 2000) : 0;
    const postOnly = !aggressive && tif !== TimeInForce.IOC && rng.nextChance(0.1);
    const accountId = this.account();
    const orderId = this.nextOrderId++;
    if (tif !== TimeInForce.IOC) this.remember(orderId);
    return { type: 'place', ts: this.ts, orderId, accountId, side, orderType: OrderType.Limit, price, size, tif, expiresAt, postOnly, stp: stpModeOf(accountId) };
  }

  private marketOrder(): PlaceOrder {
    const rng = this.rng;
    const side: Side = rng.nextInt(2) === 0 ? Side.Buy : Side.Sell;
    const size = 1 + rng.nextInt(20);
    const tif = rng.nextChance(0.1) ? TimeInForce.FOK : TimeInForce.IOC;
    // 30% carry a protection price 5% through the fair price.
    const band = Math.floor(this.mid / 20);
    const price = rng.nextChance(0.3) ? (side === Side.Buy ? this.mid + band : Math.max(1, this.mid - band)) : 0;
    const accountId = this.account();
    return { type: 'place', ts: this.ts, orderId: this.nextOrderId++, accountId, side, orderType: OrderType.Market, price, size, tif, expiresAt: 0, postOnly: false, stp: stpModeOf(accountId) };
  }

  private remember(orderId: number): void {
    this.live.push(orderId);
    // Forget traded / expired ids in bulk when they pile up (amortised O(1)).
    if (this.live.length > 2 * this.book.orderCount + 1024) this.live = this.live.filter((id) => this.book.getOrder(id) !== undefined);
  }

  private removeAt(i: number): void {
    const last = this.live.pop()!;
    if (i < this.live.length) this.live[i] = last;
  }

  /**
   * Whether the order will still rest when the command being generated (at this.ts) reaches the book: the
   * book expires GTT orders due at or before a command's time before it applies the command, so an order
   * due now is as gone as a filled one.
   */
  private restsAtNextCommand(orderId: number): boolean {
    const o = this.book.getOrder(orderId);
    return o !== undefined && (o.expiresAt === 0 || o.expiresAt > this.ts);
  }

  /**
   * Index in `live` of a resting order, or -1. Of two random resting candidates the one further from the
   * fair price wins: traders cancel and re-price stale quotes more than the touch.
   */
  private pickResting(): number {
    const rng = this.rng;
    let first = -1;
    for (let attempt = 0; attempt < 16 && this.live.length > 0; attempt++) {
      const i = rng.nextInt(this.live.length);
      if (!this.restsAtNextCommand(this.live[i]!)) {
        this.removeAt(i);
        if (first === this.live.length) first = i; // the swapped-in element took first's place
        continue;
      }
      if (first < 0) {
        first = i;
        continue;
      }
      const a = this.book.getOrder(this.live[first]!)!;
      const b = this.book.getOrder(this.live[i]!)!;
      return Math.abs(b.price - this.mid) > Math.abs(a.price - this.mid) ? i : first;
    }
    return first;
  }

  private cancel(): Command | null {
    const i = this.pickResting();
    if (i < 0) return null;
    const o = this.book.getOrder(this.live[i]!)!;
    this.removeAt(i);
    return { type: 'cancel', ts: this.ts, orderId: o.orderId, accountId: o.accountId };
  }

  private amend(): Command | null {
    const rng = this.rng;
    const i = this.pickResting();
    if (i < 0) return null;
    const o = this.book.getOrder(this.live[i]!)!;
    let price = o.price;
    let size = o.remaining;
    if (size > 1 && rng.nextChance(0.7)) {
      // Size down keeps queue priority.
      size = Math.max(1, size - 1 - rng.nextInt(Math.max(1, size >> 1)));
    } else {
      const step = rng.nextRange(1, 3);
      price = rng.nextChance(0.5) || price <= step ? price + step : price - step;
    }
    return { type: 'amend', ts: this.ts, orderId: o.orderId, accountId: o.accountId, price, size };
  }

  private cancelAll(): Command {
    return { type: 'cancelAll', ts: this.ts, accountId: this.account() };
  }
}
