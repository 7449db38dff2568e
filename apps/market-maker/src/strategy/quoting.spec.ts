import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MarketUnits } from '@parallax/order-book';
import { computeQuotes, needsRequote, skewedCentre, type QuoteParams } from './quoting.js';

const rules = { tickSize: '0.01', lotSize: '0.001', minAmount: '0.001', minNotional: '0' };
const flat: QuoteParams = { spreadBps: 20, levelSpacingBps: 10, levels: 3, size: 1, sizeGrowth: 0.5, skewBpsPerUnit: 0, maxSkewBps: 0, maxInventory: 0 };

const prices = (qs: readonly { side: string; price: string }[], side: string): string[] => qs.filter((q) => q.side === side).map((q) => q.price);

describe('quoting math', () => {
  it('puts the ladder around the reference: half the spread to the best level, then the spacing, rounded away from the centre', () => {
    const qs = computeQuotes(100, 0, flat, rules);
    // 100 * (1 - 0.001) = 99.9, 100 * (1 - 0.002) = 99.8, 99.7; asks mirror it.
    assert.deepEqual(prices(qs, 'buy'), ['99.90', '99.80', '99.70']);
    assert.deepEqual(prices(qs, 'sell'), ['100.10', '100.20', '100.30']);
    assert.deepEqual(qs.filter((q) => q.side === 'buy').map((q) => q.amount), ['1.000', '1.500', '2.000']);
  });

  it('rounds bids down and asks up to the tick, and sizes down to the lot', () => {
    const qs = computeQuotes(100.005, 0, { ...flat, levels: 1, spreadBps: 0, size: 0.12345 }, rules);
    assert.deepEqual(
      qs.map((q) => [q.side, q.price, q.amount]),
      [
        ['buy', '100.00', '0.123'],
        ['sell', '100.01', '0.123'],
      ],
    );
  });

  it('keeps levels distinct and the book uncrossed when the spread is finer than a tick', () => {
    const qs = computeQuotes(1, 0, { ...flat, spreadBps: 1, levelSpacingBps: 1, levels: 4 }, rules);
    assert.deepEqual(prices(qs, 'buy'), ['0.99', '0.98', '0.97', '0.96']);
    assert.deepEqual(prices(qs, 'sell'), ['1.01', '1.02', '1.03', '1.04']);
  });

  it('raises sizes to the minimum amount and the minimum notional', () => {
    const byAmount = computeQuotes(100, 0, { ...flat, levels: 1, size: 0.0001 }, { ...rules, minAmount: '0.05' });
    assert.deepEqual(byAmount.map((q) => q.amount), ['0.050', '0.050']);
    // 10 quote at 99.90 needs 0.100100... → 0.101 lots up; at 100.10, 0.0999 → 0.100.
    const byNotional = computeQuotes(100, 0, { ...flat, levels: 1, size: 0.001 }, { ...rules, minNotional: '10' });
    assert.deepEqual(byNotional.map((q) => [q.price, q.amount]), [
      ['99.90', '0.101'],
      ['100.10', '0.100'],
    ]);
  });

  it('skews against the inventory: long moves the ladder down, short up, capped', () => {
    const p = { ...flat, skewBpsPerUnit: 10, maxSkewBps: 30 };
    assert.equal(skewedCentre(100, 2, p), 99.8);
    assert.equal(skewedCentre(100, -2, p), 100.2);
    assert.equal(skewedCentre(100, 10, p), 99.7);
    const long = computeQuotes(100, 2, p, rules);
    assert.deepEqual(prices(long, 'buy')[0], '99.70');
    assert.deepEqual(prices(long, 'sell')[0], '99.90');
  });

  it('stops quoting the side that would grow the inventory past its limit', () => {
    const p = { ...flat, maxInventory: 5 };
    assert.deepEqual(prices(computeQuotes(100, 5, p, rules), 'buy'), []);
    assert.equal(prices(computeQuotes(100, 5, p, rules), 'sell').length, 3);
    assert.deepEqual(prices(computeQuotes(100, -5, p, rules), 'sell'), []);
    assert.equal(prices(computeQuotes(100, 4.999, p, rules), 'buy').length, 3);
  });

  it('quotes nothing for a reference that is not a positive number, and no bid at or below zero', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.deepEqual(computeQuotes(bad, 0, flat, rules), []);
    const tiny = computeQuotes(0.02, 0, { ...flat, levels: 3 }, rules);
    assert.deepEqual(prices(tiny, 'buy'), ['0.01']);
  });

  it('property: every quote is on the grid, above the minimums, bids strictly below asks, levels strictly ordered', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 1e6, noNaN: true }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 0.0001, max: 50, noNaN: true }),
        fc.constantFrom(['0.01', '0.001'], ['0.5', '0.1'], ['0.0001', '1']),
        (ref, inventory, levels, spreadBps, levelSpacingBps, size, [tickSize, lotSize]) => {
          const r = { tickSize: tickSize, lotSize: lotSize, minAmount: lotSize, minNotional: '1' };
          const qs = computeQuotes(ref, inventory, { spreadBps, levelSpacingBps, levels, size, sizeGrowth: 0.5, skewBpsPerUnit: 1, maxSkewBps: 100, maxInventory: 0 }, r);
          const units = new MarketUnits(r.tickSize, r.lotSize);
          for (const q of qs) {
            assert.equal(units.priceToTicks(q.price), q.priceTicks);
            assert.equal(units.sizeToLots(q.amount), q.lots);
            assert.ok(q.lots >= 1);
            assert.ok(Number(q.price) * Number(q.amount) >= 1 - 1e-9, `${q.price} x ${q.amount} below the minimum notional`);
          }
          const bids = qs.filter((q) => q.side === 'buy').map((q) => q.priceTicks);
          const asks = qs.filter((q) => q.side === 'sell').map((q) => q.priceTicks);
          assert.equal(asks.length, levels);
          for (let i = 1; i < bids.length; i++) assert.ok(bids[i]! < bids[i - 1]!);
          for (let i = 1; i < asks.length; i++) assert.ok(asks[i]! > asks[i - 1]!);
          if (bids.length > 0) assert.ok(bids[0]! < asks[0]!);
        },
      ),
    );
  });
});

describe('when to requote', () => {
  it('requotes the first time, when a level is gone, and when the centre moved by the threshold, not before', () => {
    assert.equal(needsRequote(undefined, 100, 5, 0, 0), true);
    assert.equal(needsRequote(100, undefined, 5, 0, 0), false);
    assert.equal(needsRequote(100, 100.04, 5, 6, 6), false);
    assert.equal(needsRequote(100, 100.05, 5, 6, 6), true);
    assert.equal(needsRequote(100, 99.95, 5, 6, 6), true);
    assert.equal(needsRequote(100, 100, 5, 5, 6), true);
  });
});
