import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StateHash } from './hash.js';
import { EventKind } from './types.js';

// Frozen copy of the original StateHash.add (before the per-event fast paths). Replicas and stored snapshots
// compare hash values, so the optimized implementation must match this bit for bit. Do not "fix" it.
class ReferenceHash {
  a = 0x6a09e667 | 0;
  b = 0xbb67ae85 | 0;
  add(x: number): void {
    const lo = x | 0;
    let a = Math.imul(this.a ^ lo, 0x9e3779b1);
    let b = Math.imul(this.b ^ lo, 0x85ebca77);
    if (x > 0xffffffff) {
      const hi = (x / 4294967296) | 0;
      a = Math.imul(a ^ hi, 0xc2b2ae3d);
      b = Math.imul(b ^ hi, 0x27d4eb2f);
    }
    a = (a << 13) | (a >>> 19);
    this.a = a;
    this.b = (((b << 17) | (b >>> 15)) + a) | 0;
  }
}

const EDGES = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, 2 ** 53 - 2, 2 ** 53 - 1];
/** Any non-negative safe integer, biased to the 32-bit boundaries. */
const safe = fc.oneof(fc.maxSafeNat(), fc.constantFrom(...EDGES), fc.nat({ max: 0xffffffff }), fc.integer({ min: 2 ** 32 - 8, max: 2 ** 32 + 8 }));
/** Enum fields (side, type, tif, reason, command): the fast path assumes only < 2^32. */
const small = fc.oneof(fc.nat({ max: 16 }), fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1));
const lane = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

function pair(a: number, b: number): { ref: ReferenceHash; h: StateHash } {
  const ref = new ReferenceHash();
  const h = new StateHash();
  ref.a = h.a = a;
  ref.b = h.b = b;
  return { ref, h };
}

function same(h: StateHash, ref: ReferenceHash): void {
  assert.equal(h.a, ref.a);
  assert.equal(h.b, ref.b);
}

describe('StateHash', () => {
  it('add() equals the original implementation for every safe integer (property)', () => {
    fc.assert(
      fc.property(lane, lane, fc.array(safe, { maxLength: 40 }), (a, b, xs) => {
        const { ref, h } = pair(a, b);
        for (const x of xs) {
          ref.add(x);
          h.add(x);
          same(h, ref);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('every per-event feed equals the original field-by-field add() (property)', () => {
    const feeds: [string, fc.Arbitrary<number[]>, (h: StateHash, f: number[]) => void, (f: number[]) => number[]][] = [
      [
        'accepted',
        fc.tuple(safe, safe, safe, safe, small, small, small, safe, safe),
        (h, f) => {
          h.accepted(f[0]!, f[1]!, f[2]!, f[3]!, f[4]!, f[5]!, f[6]!, f[7]!, f[8]!);
        },
        (f) => [EventKind.Accepted, ...f],
      ],
      [
        'rejected',
        fc.tuple(safe, safe, small, safe, safe, small),
        (h, f) => {
          h.rejected(f[0]!, f[1]!, f[2]!, f[3]!, f[4]!, f[5]!);
        },
        (f) => [EventKind.Rejected, ...f],
      ],
      [
        'trade',
        fc.tuple(safe, safe, safe, safe, safe, safe, small, safe, safe),
        (h, f) => {
          h.trade(f[0]!, f[1]!, f[2]!, f[3]!, f[4]!, f[5]!, f[6]!, f[7]!, f[8]!);
        },
        (f) => [EventKind.Trade, ...f],
      ],
      [
        'done',
        fc.tuple(safe, safe, safe, safe, small, safe),
        (h, f) => {
          h.done(f[0]!, f[1]!, f[2]!, f[3]!, f[4]!, f[5]!);
        },
        (f) => [EventKind.Done, ...f],
      ],
      [
        'amended',
        fc.tuple(safe, safe, safe, safe, safe, safe, small),
        (h, f) => {
          h.amended(f[0]!, f[1]!, f[2]!, f[3]!, f[4]!, f[5]!, f[6]!);
        },
        (f) => [EventKind.Amended, ...f],
      ],
      [
        'level',
        fc.tuple(safe, safe, small, safe, safe),
        (h, f) => {
          h.level(f[0]!, f[1]!, f[2]!, f[3]!, f[4]!);
        },
        (f) => [EventKind.Level, ...f],
      ],
    ];
    for (const [name, fields, feed, asAdds] of feeds) {
      fc.assert(
        fc.property(lane, lane, fields, (a, b, f) => {
          const { ref, h } = pair(a, b);
          for (const x of asAdds(f)) ref.add(x);
          feed(h, f);
          assert.equal(h.a, ref.a, name);
          assert.equal(h.b, ref.b, name);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('keeps the value stored snapshots and replicas were built with', () => {
    // Computed with the original implementation; a change here breaks stored snapshots and mixed replicas.
    const h = new StateHash();
    for (const x of [0, 1, 0xffffffff, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 123456789012345, 42]) h.add(x);
    assert.equal(h.a, -814187602);
    assert.equal(h.b, -485599223);
    assert.equal(h.hex(), 'c2bcf00706de59d6');
    assert.equal(new StateHash().hex(), new StateHash().hex());
  });
});
