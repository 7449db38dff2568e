import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { OrderBookErrorCode } from './index.js';
import { MarketUnits, OrderBookError } from './index.js';

const throwsCode = (fn: () => unknown, code: OrderBookErrorCode): void => {
  assert.throws(fn, (e: unknown) => e instanceof OrderBookError && e.code === code && e instanceof Error);
};

describe('MarketUnits: decimal strings <-> ticks and lots', () => {
  const u = new MarketUnits('0.01', '0.001');

  it('converts prices on the tick grid and sizes on the lot grid', () => {
    assert.equal(u.priceToTicks('1.23'), 123);
    assert.equal(u.priceToTicks('1.2'), 120);
    assert.equal(u.priceToTicks('1.230000'), 123);
    assert.equal(u.priceToTicks('0001.5'), 150);
    assert.equal(u.priceToTicks('0.01'), 1);
    assert.equal(u.sizeToLots('0.001'), 1);
    assert.equal(u.sizeToLots('2'), 2000);
    assert.equal(u.sizeToLots('123.456'), 123456);
  });

  it('rejects values off the grid', () => {
    throwsCode(() => u.priceToTicks('1.235'), 'PRICE_OFF_TICK');
    throwsCode(() => u.priceToTicks('0.001'), 'PRICE_OFF_TICK');
    throwsCode(() => u.sizeToLots('0.0005'), 'SIZE_OFF_LOT');
    const odd = new MarketUnits('0.05', '5');
    assert.equal(odd.priceToTicks('1.15'), 23);
    throwsCode(() => odd.priceToTicks('1.12'), 'PRICE_OFF_TICK');
    assert.equal(odd.sizeToLots('15'), 3);
    throwsCode(() => odd.sizeToLots('12'), 'SIZE_OFF_LOT');
    // A step that is not a power of ten: exact, no binary rounding.
    const third = new MarketUnits('0.03', '0.7');
    assert.equal(third.priceToTicks('0.09'), 3);
    throwsCode(() => third.priceToTicks('0.1'), 'PRICE_OFF_TICK');
    assert.equal(third.sizeToLots('2.1'), 3);
  });

  it('rejects zero and negative values', () => {
    for (const v of ['0', '0.00', '-0', '-1', '-0.01']) {
      throwsCode(() => u.priceToTicks(v), 'PRICE_NOT_POSITIVE');
      throwsCode(() => u.sizeToLots(v), 'SIZE_NOT_POSITIVE');
    }
  });

  it('rejects malformed decimals', () => {
    for (const v of ['', ' 1', '1 ', '+1', '1.', '.5', '1e3', '1E-2', '0x10', 'NaN', 'Infinity', '1,5', '1.2.3', '--1', '١']) {
      throwsCode(() => u.priceToTicks(v), 'INVALID_DECIMAL');
    }
    throwsCode(() => u.priceToTicks(12 as unknown as string), 'INVALID_DECIMAL');
    throwsCode(() => u.sizeToLots(undefined as unknown as string), 'INVALID_DECIMAL');
  });

  it('rejects too many digits and values beyond safe integers', () => {
    throwsCode(() => u.priceToTicks('1'.repeat(41)), 'TOO_MANY_DIGITS');
    throwsCode(() => u.priceToTicks('0.' + '0'.repeat(39) + '1'), 'TOO_MANY_DIGITS'); // 41 digits
    throwsCode(() => u.priceToTicks('0.' + '0'.repeat(38) + '1'), 'PRICE_OFF_TICK'); // 40 digits: parsed, then off grid
    throwsCode(() => u.priceToTicks('9'.repeat(65)), 'TOO_MANY_DIGITS');
    assert.equal(u.priceToTicks('90071992547409.91'), Number.MAX_SAFE_INTEGER);
    throwsCode(() => u.priceToTicks('90071992547409.92'), 'VALUE_OUT_OF_RANGE');
    throwsCode(() => u.sizeToLots('1' + '0'.repeat(30)), 'VALUE_OUT_OF_RANGE');
  });

  it('formats ticks and lots with the step precision', () => {
    assert.equal(u.ticksToPrice(150), '1.50');
    assert.equal(u.ticksToPrice(1), '0.01');
    assert.equal(u.ticksToPrice(0), '0.00');
    assert.equal(u.lotsToSize(1500), '1.500');
    assert.equal(u.ticksToPrice(Number.MAX_SAFE_INTEGER), '90071992547409.91');
    assert.equal(u.notionalToQuote(123 * 2000), '2.46000'); // 1.23 * 2.000
    assert.equal(new MarketUnits('5', '1').ticksToPrice(3), '15');
    throwsCode(() => u.ticksToPrice(-1), 'VALUE_OUT_OF_RANGE');
    throwsCode(() => u.lotsToSize(1.5), 'VALUE_OUT_OF_RANGE');
    throwsCode(() => u.notionalToQuote(2 ** 53), 'VALUE_OUT_OF_RANGE');
  });

  it('validates tick and lot sizes', () => {
    throwsCode(() => new MarketUnits('0', '1'), 'INVALID_TICK_SIZE');
    throwsCode(() => new MarketUnits('-0.01', '1'), 'INVALID_TICK_SIZE');
    throwsCode(() => new MarketUnits('abc', '1'), 'INVALID_TICK_SIZE');
    throwsCode(() => new MarketUnits('0.01', '1e-3'), 'INVALID_LOT_SIZE');
    throwsCode(() => new MarketUnits('0.01', '0'), 'INVALID_LOT_SIZE');
  });

  it('round-trips every safe tick / lot count (property)', () => {
    const steps = fc.constantFrom('0.01', '0.5', '1', '25', '0.000001', '0.03');
    fc.assert(
      fc.property(steps, steps, fc.maxSafeNat(), (tick, lot, n) => {
        const m = new MarketUnits(tick, lot);
        assert.equal(m.priceToTicks(m.ticksToPrice(Math.max(1, n))), Math.max(1, n));
        assert.equal(m.sizeToLots(m.lotsToSize(Math.max(1, n))), Math.max(1, n));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts exactly the multiples of the step (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 9 }), fc.integer({ min: 1, max: 99 }), (k, frac) => {
        const m = new MarketUnits('0.25', '0.001');
        const onGrid = (k * 25).toString();
        const price = `${onGrid.slice(0, -2) || '0'}.${onGrid.slice(-2).padStart(2, '0')}`;
        assert.equal(m.priceToTicks(price), k);
        const off = `${price}${String(frac).padStart(2, '0')}1`; // adds a non-zero digit beyond the grid
        throwsCode(() => m.priceToTicks(off), 'PRICE_OFF_TICK');
      }),
      { numRuns: 200 },
    );
  });
});
