import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bookMidReference, ExternalReference, priceAtDepth, type MarketView } from './reference.js';

const view = (bids: [number, number][], asks: [number, number][], lastTrade?: number): MarketView => ({ market: 'M1-USDC', bids, asks, lastTrade });

describe('reference price', () => {
  it("takes the mid of the others' book, else the last trade, else the start price", () => {
    const fresh = () => bookMidReference({ startPrice: () => 100, maxStepBps: 0 });
    assert.equal(fresh().price(view([[99, 1]], [[101, 1]])), 100);
    assert.equal(fresh().price(view([[99, 1]], [], 98)), 98);
    assert.equal(fresh().price(view([], [])), 100);
    assert.equal(bookMidReference({ startPrice: () => undefined }).price(view([], [])), undefined);
    // A crossed view (it cannot rest, but a stale copy could show it) is not a mid.
    assert.equal(fresh().price(view([[102, 1]], [[101, 1]], 97)), 97);
  });

  it('an attacker with dust at the top does not set the price (minDepth)', () => {
    const ref = bookMidReference({ startPrice: () => 100, minDepth: 1, maxStepBps: 0 });
    // 0.001 bid at 130 and ask at 131 in front of real depth at 99 / 101.
    assert.equal(ref.price(view([[130, 0.001], [99, 5]], [[131, 0.001], [101, 5]])), 100);
    assert.equal(priceAtDepth([[10, 0.4], [9, 0.4], [8, 1]], 1), 8);
    assert.equal(priceAtDepth([[10, 0.4]], 1), undefined);
  });

  it('an attacker who moves the book drags the reference by at most maxStepBps per check', () => {
    const ref = bookMidReference({ startPrice: () => 100, maxStepBps: 10 });
    assert.equal(ref.price(view([[99, 1]], [[101, 1]])), 100);
    const spoofed = view([[149, 1]], [[151, 1]]);
    assert.equal(ref.price(spoofed), 100 * 1.001);
    assert.equal(ref.price(spoofed), 100 * 1.001 * 1.001);
    // Back to the real book: it comes back the same way.
    assert.equal(ref.price(view([[99, 1]], [[101, 1]])), 100 * 1.001 * 1.001 * (1 - 0.001));
  });

  it('an external reference refuses a price that is not a positive number', () => {
    const ext = new ExternalReference();
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => { ext.set('M1-USDC', bad); }, RangeError);
    assert.equal(ext.price(view([], [])), undefined);
    ext.set('M1-USDC', 42);
    assert.equal(ext.price(view([], [])), 42);
  });
});
