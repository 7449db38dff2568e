// Where the market maker's reference price comes from. The default reads the exchange's own book without the
// bot's quotes; a bot author plugs in any other source (another venue, an oracle, a model) with one method.

/** A price level as [price, size in base units], best first. */
export type ViewLevel = readonly [price: number, size: number];

/** What a reference source may look at: the public book without this bot's own quotes, and the last trade. */
export interface MarketView {
  readonly market: string;
  /** Others' levels (this bot's own orders taken out), best first. */
  readonly bids: readonly ViewLevel[];
  readonly asks: readonly ViewLevel[];
  readonly lastTrade: number | undefined;
}

export interface ReferencePriceSource {
  /** The fair price of a market now, or undefined when unknown (the bot then keeps its quotes as they are). */
  price(view: MarketView): number | undefined;
}

export interface BookMidOptions {
  /** The reference of a market with no book and no trade yet. */
  readonly startPrice: (market: string) => number | undefined;
  /**
   * Each side's price is where the others' cumulative size first reaches this many base units: dust orders at
   * the top do not set the price. 0 = the best level.
   */
  readonly minDepth?: number;
  /** The reference moves at most this many basis points per check (a spoofed book drags it only slowly). */
  readonly maxStepBps?: number;
}

/**
 * The mid of the others' book (each side taken at `minDepth`), without the bot's own quotes; with one side
 * empty, the last trade; with no trade yet, the start price. Two guards against a trader who places orders to
 * move the bot: sizes below `minDepth` are looked through, and the reference moves at most `maxStepBps` per
 * check, so a spoof has to rest (and risk being filled) for a long time to drag the quotes anywhere. Anchoring on
 * others' orders, not its own, keeps the skew from feeding on itself.
 */
export function bookMidReference(options: BookMidOptions): ReferencePriceSource {
  const last = new Map<string, number>();
  const minDepth = options.minDepth ?? 0;
  const maxStep = (options.maxStepBps ?? 10) / 10_000;
  return {
    price(v) {
      const bid = priceAtDepth(v.bids, minDepth);
      const ask = priceAtDepth(v.asks, minDepth);
      const raw = bid !== undefined && ask !== undefined && bid < ask ? (bid + ask) / 2 : (v.lastTrade ?? options.startPrice(v.market));
      if (raw === undefined || !(raw > 0) || !Number.isFinite(raw)) return last.get(v.market);
      const prev = last.get(v.market);
      const next = prev === undefined || maxStep <= 0 ? raw : Math.min(prev * (1 + maxStep), Math.max(prev * (1 - maxStep), raw));
      last.set(v.market, next);
      return next;
    },
  };
}

/** The price at which the cumulative size of `levels` first reaches `depth` (undefined: not enough size). */
export function priceAtDepth(levels: readonly ViewLevel[], depth: number): number | undefined {
  let cum = 0;
  for (const [price, size] of levels) {
    cum += size;
    if (cum >= depth - 1e-12) return price;
  }
  return undefined;
}

/** A reference fed from outside: call set() whenever the external price changes. */
export class ExternalReference implements ReferencePriceSource {
  private readonly prices = new Map<string, number>();

  set(market: string, price: number): void {
    if (!(price > 0) || !Number.isFinite(price)) throw new RangeError(`a reference price is a positive number, got ${String(price)}`);
    this.prices.set(market, price);
  }

  price(v: MarketView): number | undefined {
    return this.prices.get(v.market);
  }
}
