// Running state hash: two 32-bit lanes (multiply-rotate mixing with Math.imul, murmur3 finalizer), fed with every
// field of every emitted event in emission order. Two replicas that applied the same commands from the same
// state have the same hash; any divergence in any event changes it (with overwhelming probability).
// Not cryptographic: it proves agreement between honest replicas, not integrity against an adversary.
//
// The values are part of the replication contract (replicas and stored snapshots compare them). add() is the
// definition; the per-event methods (accepted, rejected, trade, done, amended, level) are inherited from
// StateHashEvents in hash-events.generated.ts, written by libs/order-book/scripts/generate-hash.mjs: they
// feed exactly what add() would for the event kind and each field in order (hash.spec.ts proves it against a
// frozen copy of the original add()), but keep both lanes in locals for the whole event instead of a
// load/store per field (~15% of book throughput). The mixing step is unrolled per field by the generator
// (one definition there) because a helper call per field measured ~6% slower.

import { StateHashEvents } from './hash-events.generated.js';

const TWO_32 = 4294967296;

export class StateHash extends StateHashEvents {
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
