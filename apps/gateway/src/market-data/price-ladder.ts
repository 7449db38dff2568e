// One side's prices kept in book order as levels come and go (binary search + splice), so the top of the book
// is a slice: the checksum every book diff carries and every snapshot read the top levels, and sorting the
// whole side for each of them cost more than the rest of the fan-out once updates arrive by thousands a second.
// A splice moves at most the side's level count (hundreds) of numbers; a level is added or removed far less
// often than it is read.

export class PriceLadder {
  private readonly prices: number[] = [];

  /** `descending`: bids (best = highest first); otherwise asks (best = lowest first). */
  constructor(private readonly descending: boolean) {}

  get size(): number {
    return this.prices.length;
  }

  /** Adds a price (no-op if present). */
  add(price: number): void {
    const i = this.lowerBound(price);
    if (this.prices[i] !== price) this.prices.splice(i, 0, price);
  }

  /** Removes a price (no-op if absent). */
  remove(price: number): void {
    const i = this.lowerBound(price);
    if (this.prices[i] === price) this.prices.splice(i, 1);
  }

  /** The best `depth` prices, best first. */
  top(depth: number): number[] {
    return this.prices.slice(0, depth);
  }

  /** First index whose price is not better than `price`. */
  private lowerBound(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.prices[mid]!;
      if (this.descending ? p > price : p < price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
