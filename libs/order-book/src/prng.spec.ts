import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveSeed, Prng } from './prng.js';

describe('Prng', () => {
  it('draws floats in [0, 1) and integers in their ranges, reaching both ends', () => {
    const r = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const x = r.nextFloat();
      assert.ok(x >= 0 && x < 1, `float ${x}`);
      const k = r.nextRange(-2, 2);
      assert.ok(Number.isInteger(k) && k >= -2 && k <= 2, `range ${k}`);
      seen.add(k);
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
  });

  it('nextChance follows its probability', () => {
    const r = new Prng(3);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (r.nextChance(0.25)) hits++;
    assert.ok(Math.abs(hits / 100_000 - 0.25) < 0.01, `hit rate ${hits / 100_000}`);
  });

  it('derived seeds give each stream its own sequence, reproducibly, and keep a seed above 2^32', () => {
    const first = (seed: number) => Array.from({ length: 4 }, ((r) => () => r.nextU32())(new Prng(seed)));
    assert.equal(deriveSeed(42, 7), deriveSeed(42, 7));
    const streams = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((s) => first(deriveSeed(42, s)).join(',')));
    assert.equal(streams.size, 8);
    assert.notEqual(deriveSeed(42, 1), deriveSeed(42 + 2 ** 32, 1));
  });
});
