// The one seeded PRNG of Parallax, for workloads, benchmarks and property tests: the same seed gives the same
// sequence on every machine and Node version (32-bit integer arithmetic only, no Math.random; floats come
// from one exact division). It lives in the lowest library so that every package may import it; nothing in
// the engines draws from it (they are deterministic functions of their input).

/** splitmix32 step: spreads a small or structured seed over 32 well-mixed bits. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Mixes a seed and a stream number (e.g. a market id) into an independent 32-bit seed, so that each stream
 * draws its own sequence and adding a stream does not shift the others. Seeds above 2^32 keep their high bits.
 */
export function deriveSeed(seed: number, stream: number): number {
  const st = { s: (seed ^ Math.imul(stream + 1, 0x27d4eb2f)) | 0 };
  splitmix32(st);
  return splitmix32(st) ^ Math.imul(stream, 0x165667b1) ^ (Math.floor(seed / 2 ** 32) | 0);
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through splitmix32. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    for (let i = 0; i < 16; i++) this.nextU32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32 (the bias of scaling a 32-bit draw is irrelevant here). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Uniform integer in [lo, hi]. */
  nextRange(lo: number, hi: number): number {
    return lo + this.nextInt(hi - lo + 1);
  }

  /** True with probability p. */
  nextChance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** Standard normal deviate (Box-Muller; the second value of each pair is kept for the next call). */
  nextNormal(): number {
    const spare = this.spareNormal;
    if (spare !== undefined) {
      this.spareNormal = undefined;
      return spare;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
