import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NonceSet, type NonceKey } from './nonce-set.js';

describe('NonceSet', () => {
  it('answers exactly as a Set for any sequence of adds (runs, gaps, repeats, bigints)', () => {
    const key = fc.oneof(fc.nat({ max: 40 }), fc.constantFrom<NonceKey>(2n ** 60n, 2n ** 64n - 1n, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 80 }), (adds) => {
        const ns = new NonceSet();
        const ref = new Set<NonceKey>();
        for (const n of adds) {
          ns.add(n);
          ref.add(n);
          assert.equal(ns.size, ref.size);
        }
        for (let n = 0; n <= 42; n++) assert.equal(ns.has(n), ref.has(n), `nonce ${n}`);
        for (const n of [2n ** 60n, 2n ** 64n - 1n, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1]) assert.equal(ns.has(n), ref.has(n));
        assert.deepEqual(new Set(ns.values()), ref);
        assert.equal(ns.values().length, ref.size);
      }),
      { numRuns: 500 },
    );
  });
});
