import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ABSENT, SlotMap } from './slot-map.js';

describe('SlotMap', () => {
  it('behaves like Map under random set / delete / get (property)', () => {
    const key = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.maxSafeNat(), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1));
    const op = fc.tuple(fc.constantFrom('set', 'delete', 'get'), key, fc.integer({ min: 0, max: 2 ** 31 - 1 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const m = new SlotMap(16);
        const ref = new Map<number, number>();
        for (const [kind, k, v] of ops) {
          if (kind === 'set') {
            m.set(k, v);
            ref.set(k, v);
          } else if (kind === 'delete') {
            assert.equal(m.delete(k), ref.delete(k));
          } else {
            assert.equal(m.get(k), ref.get(k) ?? ABSENT);
            assert.equal(m.has(k), ref.has(k));
          }
          assert.equal(m.size, ref.size);
        }
        for (const [k, v] of ref) assert.equal(m.get(k), v);
        const seen = new Map<number, number>();
        m.forEach((v, k) => seen.set(k, v));
        assert.deepEqual(seen, ref);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps probe chains intact when deleting inside a run of collisions', () => {
    const m = new SlotMap(16);
    for (let i = 0; i < 2000; i++) m.set(i * 16, i);
    for (let i = 0; i < 2000; i += 3) m.delete(i * 16);
    for (let i = 0; i < 2000; i++) assert.equal(m.get(i * 16), i % 3 === 0 ? ABSENT : i);
    assert.equal(m.get(-1), ABSENT);
    assert.equal(m.has(-1), false);
    assert.equal(m.delete(-1), false);
    assert.equal(m.delete(0.5), false);
    // 2^53 is not a safe integer and must not alias 2^53 - 1 (2^53 + 1 rounds to 2^53 in a double).
    m.set(2 ** 53 - 1, 7);
    assert.equal(m.get(2 ** 53), ABSENT);
    assert.equal(m.delete(2 ** 53), false);
    assert.equal(m.get(2 ** 53 - 1), 7);
    assert.equal(m.get(Number.NaN), ABSENT);
    assert.equal(m.get(0.5), ABSENT);
  });

  it('stays equal to Map while growing incrementally: replace, delete and lookup hit both tables (property)', () => {
    // Few distinct keys and many ops: growth starts with small tables and every op kind lands mid-drain.
    const key = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1));
    const op = fc.tuple(fc.constantFrom('set', 'set', 'delete', 'get'), key, fc.integer({ min: 0, max: 2 ** 31 - 1 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 1500 }), (ops) => {
        const m = new SlotMap(16);
        const ref = new Map<number, number>();
        for (const [kind, k, v] of ops) {
          if (kind === 'set') {
            m.set(k, v);
            ref.set(k, v);
          } else if (kind === 'delete') {
            assert.equal(m.delete(k), ref.delete(k));
          } else {
            assert.equal(m.get(k), ref.get(k) ?? ABSENT);
          }
          assert.equal(m.size, ref.size);
        }
        for (let k = 0; k <= 300; k++) assert.equal(m.get(k), ref.get(k) ?? ABSENT);
        const seen = new Map<number, number>();
        m.forEach((v, k) => seen.set(k, v));
        assert.deepEqual(seen, ref);
      }),
      { numRuns: 100 },
    );
  });

  it('grows to 100k entries and back without losing or duplicating any', () => {
    const m = new SlotMap(16);
    for (let i = 1; i <= 100_000; i++) {
      m.set(i * 7919, i);
      if (i % 3 === 0) assert.equal(m.delete((i - 1) * 7919), true);
    }
    assert.equal(m.size, 100_000 - 33_333);
    for (let i = 1; i <= 100_000; i++) assert.equal(m.get(i * 7919), i % 3 === 2 && i < 99_999 ? ABSENT : i);
    let n = 0;
    m.forEach(() => n++);
    assert.equal(n, m.size);
  });
});
