// Running state hash: two 32-bit lanes (multiply-rotate mixing with Math.imul, murmur3 finalizer), fed with every
// field of every emitted event in emission order. Two replicas that applied the same commands from the same
// state have the same hash; any divergence in any event changes it (with overwhelming probability).
// Not cryptographic: it proves agreement between honest replicas, not integrity against an adversary.
//
// The values are part of the replication contract (replicas and stored snapshots compare them). add() is the
// definition; the per-event methods feed exactly what add() would for the event kind and each field in order
// (hash.spec.ts proves it against a frozen copy of the original add()), but keep both lanes in locals for the
// whole event instead of a load/store per field (~15% of book throughput), take the high word only for
// values >= 2^32 (by an exact multiply by 2^-32), and skip that test for enum fields (always < 2^32).
// `a ^ x` applies ToInt32 to x, which is exactly `x | 0`.

import { EventKind as EK } from './types.js';

const TWO_32 = 4294967296;
const CA = 0x9e3779b1 | 0;
const CB = 0x85ebca77 | 0;
const CA_HI = 0xc2b2ae3d | 0;
const CB_HI = 0x27d4eb2f | 0;
/** 2^-32: multiplying by a power of two is exact, so this equals the division by 2^32 of add(). */
const INV_TWO_32 = 1 / TWO_32;

export class StateHash {
  a = 0x6a09e667 | 0;
  b = 0xbb67ae85 | 0;

  /**
   * Feed one non-negative safe integer: its low 32 bits always, its high bits only when non-zero (the
   * number of fields per event is fixed by the event kind, so this is unambiguous). Lane a is a
   * multiply-rotate chain; lane b uses other constants and also absorbs lane a, so they never coincide.
   */
  add(x: number): void {
    const lo = x | 0;
    let a = Math.imul(this.a ^ lo, 0x9e3779b1);
    let b = Math.imul(this.b ^ lo, 0x85ebca77);
    if (x > 0xffffffff) {
      const hi = (x / TWO_32) | 0;
      a = Math.imul(a ^ hi, 0xc2b2ae3d);
      b = Math.imul(b ^ hi, 0x27d4eb2f);
    }
    a = (a << 13) | (a >>> 19);
    this.a = a;
    this.b = (((b << 17) | (b >>> 15)) + a) | 0;
  }

  /** Feeds an accepted event: its kind, then its fields in EventSink order. */
  accepted(seq: number, ts: number, orderId: number, accountId: number, side: number, orderType: number, tif: number, price: number, size: number): void {
    let a = this.a;
    let b = this.b;
    let x = 0;
    let y = 0;
    // EK.Accepted
    x = Math.imul(a ^ EK.Accepted, CA);
    y = Math.imul(b ^ EK.Accepted, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // seq
    x = Math.imul(a ^ seq, CA);
    y = Math.imul(b ^ seq, CB);
    if (seq > 0xffffffff) {
      const hi = seq * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // ts
    x = Math.imul(a ^ ts, CA);
    y = Math.imul(b ^ ts, CB);
    if (ts > 0xffffffff) {
      const hi = ts * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // orderId
    x = Math.imul(a ^ orderId, CA);
    y = Math.imul(b ^ orderId, CB);
    if (orderId > 0xffffffff) {
      const hi = orderId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // accountId
    x = Math.imul(a ^ accountId, CA);
    y = Math.imul(b ^ accountId, CB);
    if (accountId > 0xffffffff) {
      const hi = accountId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // side
    x = Math.imul(a ^ side, CA);
    y = Math.imul(b ^ side, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // orderType
    x = Math.imul(a ^ orderType, CA);
    y = Math.imul(b ^ orderType, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // tif
    x = Math.imul(a ^ tif, CA);
    y = Math.imul(b ^ tif, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // price
    x = Math.imul(a ^ price, CA);
    y = Math.imul(b ^ price, CB);
    if (price > 0xffffffff) {
      const hi = price * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // size
    x = Math.imul(a ^ size, CA);
    y = Math.imul(b ^ size, CB);
    if (size > 0xffffffff) {
      const hi = size * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    this.a = a;
    this.b = b;
  }

  /** Feeds a rejected event: its kind, then its fields in EventSink order. */
  rejected(seq: number, ts: number, command: number, orderId: number, accountId: number, reason: number): void {
    let a = this.a;
    let b = this.b;
    let x = 0;
    let y = 0;
    // EK.Rejected
    x = Math.imul(a ^ EK.Rejected, CA);
    y = Math.imul(b ^ EK.Rejected, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // seq
    x = Math.imul(a ^ seq, CA);
    y = Math.imul(b ^ seq, CB);
    if (seq > 0xffffffff) {
      const hi = seq * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // ts
    x = Math.imul(a ^ ts, CA);
    y = Math.imul(b ^ ts, CB);
    if (ts > 0xffffffff) {
      const hi = ts * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // command
    x = Math.imul(a ^ command, CA);
    y = Math.imul(b ^ command, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // orderId
    x = Math.imul(a ^ orderId, CA);
    y = Math.imul(b ^ orderId, CB);
    if (orderId > 0xffffffff) {
      const hi = orderId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // accountId
    x = Math.imul(a ^ accountId, CA);
    y = Math.imul(b ^ accountId, CB);
    if (accountId > 0xffffffff) {
      const hi = accountId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // reason
    x = Math.imul(a ^ reason, CA);
    y = Math.imul(b ^ reason, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    this.a = a;
    this.b = b;
  }

  /** Feeds a trade event: its kind, then its fields in EventSink order. */
  trade(seq: number, ts: number, makerId: number, makerAccount: number, takerId: number, takerAccount: number, side: number, price: number, size: number): void {
    let a = this.a;
    let b = this.b;
    let x = 0;
    let y = 0;
    // EK.Trade
    x = Math.imul(a ^ EK.Trade, CA);
    y = Math.imul(b ^ EK.Trade, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // seq
    x = Math.imul(a ^ seq, CA);
    y = Math.imul(b ^ seq, CB);
    if (seq > 0xffffffff) {
      const hi = seq * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // ts
    x = Math.imul(a ^ ts, CA);
    y = Math.imul(b ^ ts, CB);
    if (ts > 0xffffffff) {
      const hi = ts * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // makerId
    x = Math.imul(a ^ makerId, CA);
    y = Math.imul(b ^ makerId, CB);
    if (makerId > 0xffffffff) {
      const hi = makerId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // makerAccount
    x = Math.imul(a ^ makerAccount, CA);
    y = Math.imul(b ^ makerAccount, CB);
    if (makerAccount > 0xffffffff) {
      const hi = makerAccount * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // takerId
    x = Math.imul(a ^ takerId, CA);
    y = Math.imul(b ^ takerId, CB);
    if (takerId > 0xffffffff) {
      const hi = takerId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // takerAccount
    x = Math.imul(a ^ takerAccount, CA);
    y = Math.imul(b ^ takerAccount, CB);
    if (takerAccount > 0xffffffff) {
      const hi = takerAccount * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // side
    x = Math.imul(a ^ side, CA);
    y = Math.imul(b ^ side, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // price
    x = Math.imul(a ^ price, CA);
    y = Math.imul(b ^ price, CB);
    if (price > 0xffffffff) {
      const hi = price * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // size
    x = Math.imul(a ^ size, CA);
    y = Math.imul(b ^ size, CB);
    if (size > 0xffffffff) {
      const hi = size * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    this.a = a;
    this.b = b;
  }

  /** Feeds a done event: its kind, then its fields in EventSink order. */
  done(seq: number, ts: number, orderId: number, accountId: number, reason: number, remaining: number): void {
    let a = this.a;
    let b = this.b;
    let x = 0;
    let y = 0;
    // EK.Done
    x = Math.imul(a ^ EK.Done, CA);
    y = Math.imul(b ^ EK.Done, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // seq
    x = Math.imul(a ^ seq, CA);
    y = Math.imul(b ^ seq, CB);
    if (seq > 0xffffffff) {
      const hi = seq * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // ts
    x = Math.imul(a ^ ts, CA);
    y = Math.imul(b ^ ts, CB);
    if (ts > 0xffffffff) {
      const hi = ts * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // orderId
    x = Math.imul(a ^ orderId, CA);
    y = Math.imul(b ^ orderId, CB);
    if (orderId > 0xffffffff) {
      const hi = orderId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // accountId
    x = Math.imul(a ^ accountId, CA);
    y = Math.imul(b ^ accountId, CB);
    if (accountId > 0xffffffff) {
      const hi = accountId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // reason
    x = Math.imul(a ^ reason, CA);
    y = Math.imul(b ^ reason, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // remaining
    x = Math.imul(a ^ remaining, CA);
    y = Math.imul(b ^ remaining, CB);
    if (remaining > 0xffffffff) {
      const hi = remaining * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    this.a = a;
    this.b = b;
  }

  /** Feeds an amended event: its kind, then its fields in EventSink order. */
  amended(seq: number, ts: number, orderId: number, accountId: number, price: number, size: number, reason: number): void {
    let a = this.a;
    let b = this.b;
    let x = 0;
    let y = 0;
    // EK.Amended
    x = Math.imul(a ^ EK.Amended, CA);
    y = Math.imul(b ^ EK.Amended, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // seq
    x = Math.imul(a ^ seq, CA);
    y = Math.imul(b ^ seq, CB);
    if (seq > 0xffffffff) {
      const hi = seq * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // ts
    x = Math.imul(a ^ ts, CA);
    y = Math.imul(b ^ ts, CB);
    if (ts > 0xffffffff) {
      const hi = ts * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // orderId
    x = Math.imul(a ^ orderId, CA);
    y = Math.imul(b ^ orderId, CB);
    if (orderId > 0xffffffff) {
      const hi = orderId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // accountId
    x = Math.imul(a ^ accountId, CA);
    y = Math.imul(b ^ accountId, CB);
    if (accountId > 0xffffffff) {
      const hi = accountId * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // price
    x = Math.imul(a ^ price, CA);
    y = Math.imul(b ^ price, CB);
    if (price > 0xffffffff) {
      const hi = price * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // size
    x = Math.imul(a ^ size, CA);
    y = Math.imul(b ^ size, CB);
    if (size > 0xffffffff) {
      const hi = size * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // reason
    x = Math.imul(a ^ reason, CA);
    y = Math.imul(b ^ reason, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    this.a = a;
    this.b = b;
  }

  /** Feeds a level event: its kind, then its fields in EventSink order. */
  level(seq: number, ts: number, side: number, price: number, size: number): void {
    let a = this.a;
    let b = this.b;
    let x = 0;
    let y = 0;
    // EK.Level
    x = Math.imul(a ^ EK.Level, CA);
    y = Math.imul(b ^ EK.Level, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // seq
    x = Math.imul(a ^ seq, CA);
    y = Math.imul(b ^ seq, CB);
    if (seq > 0xffffffff) {
      const hi = seq * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // ts
    x = Math.imul(a ^ ts, CA);
    y = Math.imul(b ^ ts, CB);
    if (ts > 0xffffffff) {
      const hi = ts * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // side
    x = Math.imul(a ^ side, CA);
    y = Math.imul(b ^ side, CB);
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // price
    x = Math.imul(a ^ price, CA);
    y = Math.imul(b ^ price, CB);
    if (price > 0xffffffff) {
      const hi = price * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    // size
    x = Math.imul(a ^ size, CA);
    y = Math.imul(b ^ size, CB);
    if (size > 0xffffffff) {
      const hi = size * INV_TWO_32;
      x = Math.imul(x ^ hi, CA_HI);
      y = Math.imul(y ^ hi, CB_HI);
    }
    a = (x << 13) | (x >>> 19);
    b = (((y << 17) | (y >>> 15)) + a) | 0;
    this.a = a;
    this.b = b;
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
