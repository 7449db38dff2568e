// What the bot has traded since it started: inventory per asset and P&L per market, from its own fills.
// Fills arrive on the private stream and again from REST after a reconnect; each is counted once, keyed by
// market, trade id and order id (the trade id alone is per market, and a self-trade would carry it twice).

export interface Fill {
  readonly id: string;
  readonly orderId: string;
  readonly market: string;
  readonly side: 'buy' | 'sell';
  readonly price: string;
  readonly amount: string;
}

interface Position {
  /** Base units held (negative: short). */
  base: number;
  /** Average price of the open position. */
  avgPrice: number;
  realised: number;
}

export interface MarketAssets {
  readonly base: string;
  readonly quote: string;
}

export class Portfolio {
  private readonly seen = new Set<string>();
  private readonly positions = new Map<string, Position>();
  private readonly assets = new Map<string, number>();
  /** Fills counted (for monitoring and tests). */
  counted = 0;

  constructor(private readonly marketAssets: (market: string) => MarketAssets | undefined) {}

  static key(f: Pick<Fill, 'market' | 'id' | 'orderId'>): string {
    return `${f.market}/${f.id}/${f.orderId}`;
  }

  /** Marks fills as already accounted for (those that happened before this bot started). */
  ignore(fills: readonly Fill[]): void {
    for (const f of fills) this.seen.add(Portfolio.key(f));
  }

  /** Counts a fill once; returns false for one already counted. */
  apply(f: Fill): boolean {
    const key = Portfolio.key(f);
    if (this.seen.has(key)) return false;
    const assets = this.marketAssets(f.market);
    const price = Number(f.price);
    const amount = Number(f.amount);
    if (assets === undefined || !(price > 0) || !(amount > 0)) return false;
    this.seen.add(key);
    this.counted++;
    const signed = f.side === 'buy' ? amount : -amount;
    this.assets.set(assets.base, (this.assets.get(assets.base) ?? 0) + signed);
    this.assets.set(assets.quote, (this.assets.get(assets.quote) ?? 0) - signed * price);
    let p = this.positions.get(f.market);
    if (p === undefined) this.positions.set(f.market, (p = { base: 0, avgPrice: 0, realised: 0 }));
    if (p.base === 0 || Math.sign(p.base) === Math.sign(signed)) {
      // Adding to the position: a new average price.
      p.avgPrice = (p.avgPrice * Math.abs(p.base) + price * amount) / (Math.abs(p.base) + amount);
      p.base += signed;
    } else {
      // Reducing (or flipping) it: the closed part realises against the average price.
      const closed = Math.min(Math.abs(p.base), amount);
      p.realised += closed * (price - p.avgPrice) * Math.sign(p.base);
      p.base += signed;
      if (Math.abs(p.base) < 1e-12) {
        p.base = 0;
        p.avgPrice = 0;
      } else if (Math.sign(p.base) === Math.sign(signed)) p.avgPrice = price;
    }
    return true;
  }

  /** Net base units bought in a market since start. */
  position(market: string): number {
    return this.positions.get(market)?.base ?? 0;
  }

  /** Net change per asset since start (quote assets pay for the base bought). */
  inventory(): ReadonlyMap<string, number> {
    return this.assets;
  }

  realised(market: string): number {
    return this.positions.get(market)?.realised ?? 0;
  }

  /** The open position marked at `mark` against its average price. */
  unrealised(market: string, mark: number | undefined): number {
    const p = this.positions.get(market);
    if (p === undefined || p.base === 0 || mark === undefined) return 0;
    return p.base * (mark - p.avgPrice);
  }

  markets(): string[] {
    return [...this.positions.keys()];
  }
}
