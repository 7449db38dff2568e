// Running state hash: two independent 32-bit lanes (murmur3-style mixing with Math.imul), fed with every
// field of every emitted event in emission order. Two replicas that applied the same commands from the same
// state have the same hash; any divergence in any event changes it (with overwhelming probability).
// Not cryptographic: it proves agreement between honest replicas, not integrity against an adversary.

const TWO_32 = 4294967296;

export class StateHash {
  a = 0x6a09e667 | 0;
  b = 0xbb67ae85 | 0;

  /** Feed one non-negative safe integer (both its low and high 32-bit halves). */
  add(x: number): void {
    const lo = x >>> 0;
    const hi = (x / TWO_32) >>> 0;
    let a = Math.imul(this.a ^ lo, 0xcc9e2d51);
    a = Math.imul((a << 15) | (a >>> 17), 0x1b873593) ^ hi;
    this.a = (Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64) | 0;
    let b = Math.imul(this.b ^ hi, 0x85ebca77);
    b = Math.imul((b << 13) | (b >>> 19), 0xc2b2ae3d) ^ lo;
    this.b = (Math.imul((b << 17) | (b >>> 15), 9) + 0x165667b1) | 0;
  }

  /** 16 lowercase hex chars: finalized lane a then lane b. Does not change the running state. */
  hex(): string {
    return hex8(fmix(this.a ^ this.b)) + hex8(fmix(this.b + Math.imul(this.a, 0x27d4eb2f)));
  }
}

function fmix(h0: number): number {
  let h = h0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex8(x: number): string {
  return x.toString(16).padStart(8, '0');
}
