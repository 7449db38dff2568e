import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_REQUEST_WEIGHT, requestWeight, WeightedThrottlerStorage } from './weighted-throttler.js';

describe('WeightedThrottlerStorage', () => {
  it('counts a request as its weight, refuses what does not fit without counting it, and frees weight as it expires', () => {
    let now = 1_000_000;
    const s = new WeightedThrottlerStorage(() => now);
    const hit = (w: number): ReturnType<WeightedThrottlerStorage['hit']> => s.hit('k', 1_000, 10, 'account', w);
    assert.deepEqual(hit(4), { totalHits: 4, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    now += 400;
    assert.equal(hit(5).totalHits, 9);
    // 9 + 2 > 10: refused, not counted; it fits once the first 4 expire (600 ms on: Retry-After 1 s).
    const refused = hit(2);
    assert.equal(refused.isBlocked, true);
    assert.equal(refused.timeToBlockExpire, 1);
    assert.equal(hit(1).totalHits, 10, 'the refused request was not counted');
    assert.equal(hit(1).isBlocked, true);
    now += 600; // the first 4 expire
    assert.deepEqual(hit(4), { totalHits: 10, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    now += 1_000; // everything expires
    assert.equal(hit(10).totalHits, 10);
    // More than the whole limit never fits: refused, Retry-After a window.
    now += 1_000;
    const huge = hit(11);
    assert.equal(huge.isBlocked, true);
    assert.equal(huge.timeToBlockExpire, 1);
  });

  it('keeps keys and throttlers apart, drops idle keys, and answers the Nest interface as weight 1', async () => {
    let now = 0;
    const s = new WeightedThrottlerStorage(() => now);
    assert.equal(s.hit('a', 60_000, 2, 'ip', 2).totalHits, 2);
    assert.equal(s.hit('a', 60_000, 2, 'account', 2).totalHits, 2, 'another throttler of the same key has its own budget');
    assert.equal(s.hit('b', 60_000, 2, 'ip', 1).totalHits, 1);
    assert.equal((await s.increment('b', 60_000, 2, 60_000, 'ip')).totalHits, 2);
    assert.equal((await s.increment('b', 60_000, 2, 60_000, 'ip')).isBlocked, true);
    assert.equal(s.size, 3);
    now = 120_000;
    s.hit('c', 60_000, 2, 'ip', 1);
    assert.equal(s.size, 1, 'expired keys are swept');
  });

  it('stays exact over a long log that expires as it grows (compacted as it goes)', () => {
    let now = 0;
    const s = new WeightedThrottlerStorage(() => now);
    for (let i = 0; i < 100_000; i++) {
      now += 1;
      assert.equal(s.hit('k', 100, 1_000, 'ip', 1).isBlocked, false);
    }
    assert.equal(s.hit('k', 100, 100, 'ip', 1).isBlocked, true, '100 in the last 100 ms');
  });
});

describe('requestWeight', () => {
  it('is the length of the named array, 1 otherwise, and bounded', () => {
    assert.equal(requestWeight({ orders: [1, 2, 3] }, 'orders'), 3);
    assert.equal(requestWeight({ orders: [] }, 'orders'), 1);
    assert.equal(requestWeight({ orders: 'x' }, 'orders'), 1);
    assert.equal(requestWeight({ orders: [1, 2] }, undefined), 1);
    assert.equal(requestWeight(null, 'orders'), 1);
    assert.equal(requestWeight('[1,2]', 'orders'), 1);
    assert.equal(requestWeight({ orders: new Array(5_000).fill(0) }, 'orders'), MAX_REQUEST_WEIGHT);
  });
});
