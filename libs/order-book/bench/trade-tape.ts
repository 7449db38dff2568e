// Order-sensitive fingerprint of a sequence of trades: two books agree when they produce the same count
// and the same hash of the (maker id, taker id, price, size) tuples, in the same order.

export class TradeTape {
  count = 0;
  volume = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;

  add(makerId: number, takerId: number, price: number, size: number): void {
    this.count++;
    this.volume += size;
    this.h1 = mix(mix(mix(mix(this.h1, makerId), takerId), price), size);
    this.h2 = mix2(mix2(mix2(mix2(this.h2, makerId), takerId), price), size);
  }

  /** 64-bit hex digest of everything added so far. */
  digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }
}

function mix(h: number, v: number): number {
  // FNV-1a over the four bytes of v
  h = Math.imul(h ^ (v & 0xff), 0x01000193);
  h = Math.imul(h ^ ((v >>> 8) & 0xff), 0x01000193);
  h = Math.imul(h ^ ((v >>> 16) & 0xff), 0x01000193);
  return Math.imul(h ^ (v >>> 24), 0x01000193);
}

function mix2(h: number, v: number): number {
  // murmur3-style round, independent of mix()
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
