// Where the market maker's reference price comes from. The default reads the exchange's own book without the
// bot's quotes; a bot author plugs in any other source (another venue, an oracle, a model) with one method.

/** What a reference source may look at: the public book without this bot's own quotes, and the last trade. */
export interface MarketView {
  readonly market: string;
  /** Best bid and ask of the book minus this bot's own orders (undefined: that side is empty). */
  readonly bestBid: number | undefined;
  readonly bestAsk: number | undefined;
  readonly lastTrade: number | undefined;
}

export interface ReferencePriceSource {
  /** The fair price of a market now, or undefined when unknown (the bot then keeps its quotes as they are). */
  price(view: MarketView): number | undefined;
}

/**
 * The book's mid without the bot's own quotes; with one side empty, the last trade; with no trade yet, the
 * configured start price. Anchoring on others' orders (not its own) keeps the skew from feeding on itself.
 */
export function bookMidReference(startPrice: (market: string) => number | undefined): ReferencePriceSource {
  return {
    price(v) {
      if (v.bestBid !== undefined && v.bestAsk !== undefined && v.bestBid < v.bestAsk) return (v.bestBid + v.bestAsk) / 2;
      return v.lastTrade ?? startPrice(v.market);
    },
  };
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
