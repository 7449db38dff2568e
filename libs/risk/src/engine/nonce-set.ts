// The nonces one account has used (forwarded orders) or cancelled on chain. Traders count their nonces up,
// so almost every account's set is one run of consecutive numbers: kept as two numbers [lo, hi), a lookup
// reads the account's own object and no hash table (the Set lookup was the costliest line of a place: a
// cache miss per account). Nonces outside the run (gaps, bigints beyond the safe range) go to a Set.

/** A nonce as a key: a number when it is a safe integer (every realistic nonce), else the bigint. */
export type NonceKey = number | bigint;

export class NonceSet {
  private lo = 0;
  /** The run is [lo, hi); empty when lo === hi. */
  private hi = 0;
  private rest: Set<NonceKey> | null = null;

  has(n: NonceKey): boolean {
    if (typeof n === 'number' && n >= this.lo && n < this.hi) return true;
    return this.rest !== null && this.rest.has(n);
  }

  add(n: NonceKey): void {
    if (this.has(n)) return;
    if (typeof n === 'number') {
      if (this.lo === this.hi) {
        this.lo = n;
        this.hi = n + 1;
        this.absorb();
        return;
      }
      if (n === this.hi) {
        this.hi++;
        this.absorb();
        return;
      }
    }
    (this.rest ??= new Set()).add(n);
  }

  get size(): number {
    return this.hi - this.lo + (this.rest?.size ?? 0);
  }

  /** Every nonce, in no particular order. */
  values(): NonceKey[] {
    const out: NonceKey[] = [];
    for (let n = this.lo; n < this.hi; n++) out.push(n);
    if (this.rest !== null) for (const n of this.rest) out.push(n);
    return out;
  }

  /** Moves the nonces that continue the run out of the Set. */
  private absorb(): void {
    const r = this.rest;
    if (r === null) return;
    while (r.delete(this.hi)) this.hi++;
    if (r.size === 0) this.rest = null;
  }
}
