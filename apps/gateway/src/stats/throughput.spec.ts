import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RATE_WINDOW_SECONDS, SERIES_SECONDS, Throughput } from './throughput.js';

describe('Throughput', () => {
  it('reports the mean of the last complete seconds and leaves the current one out', () => {
    const t = new Throughput();
    const base = 1_000_000_000_000; // a whole second
    for (let s = 0; s < RATE_WINDOW_SECONDS; s++) t.record(base + s * 1000 + 500, 10 * (s + 1), s);
    t.record(base + RATE_WINDOW_SECONDS * 1000 + 10, 1_000, 1_000); // the second still running
    const snap = t.snapshot(base + RATE_WINDOW_SECONDS * 1000 + 999);
    // 10 + 20 + 30 + 40 + 50 orders and 0 + 1 + 2 + 3 + 4 trades over 5 seconds.
    assert.equal(snap.ordersPerSecond, 150 / RATE_WINDOW_SECONDS);
    assert.equal(snap.tradesPerSecond, 10 / RATE_WINDOW_SECONDS);
    assert.equal(snap.totalOrders, 1_150);
    assert.equal(snap.totalTrades, 1_010);
    assert.equal(snap.series.length, SERIES_SECONDS);
    assert.deepEqual(snap.series.at(-1), [base + (RATE_WINDOW_SECONDS - 1) * 1000, 50, 4]);
  });

  it('forgets seconds older than the series when their slot is reused, and counts idle seconds as zero', () => {
    const t = new Throughput();
    const base = 2_000_000_000_000;
    t.record(base, 7, 7);
    // Exactly one ring length later the same slot holds a new second: the old count must not leak into it.
    const later = base + (SERIES_SECONDS + 1) * 1000;
    t.record(later, 1, 0);
    const snap = t.snapshot(later + 1000);
    assert.deepEqual(snap.series.at(-1), [later, 1, 0]);
    assert.equal(snap.series.filter(([, o]) => o === 7).length, 0);
    assert.equal(snap.series.filter(([, o]) => o === 0).length, SERIES_SECONDS - 1);
    assert.equal(t.snapshot(later + 10 * 1000).ordersPerSecond, 0);
  });
});
