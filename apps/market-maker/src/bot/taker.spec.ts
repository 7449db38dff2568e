import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takerOrder } from './taker.js';

const m = { tickSize: '0.01', lotSize: '0.001', minAmount: '0.001' };

describe('taker orders', () => {
  it('bounds a buy at the best ask plus the slippage, rounded down so the bound is never looser', () => {
    assert.deepEqual(takerOrder(m, 'buy', 100.1, 0.5, 50), { price: '100.60', amount: '0.500' });
    assert.deepEqual(takerOrder(m, 'buy', 99.99, 1, 7), { price: '100.05', amount: '1.000' });
  });

  it('bounds a sell at the best bid minus the slippage, rounded up', () => {
    assert.deepEqual(takerOrder(m, 'sell', 99.9, 0.25, 50), { price: '99.41', amount: '0.250' });
  });

  it('rounds the size down to the lot and raises it to the minimum', () => {
    assert.equal(takerOrder(m, 'buy', 100, 0.12399, 0).amount, '0.123');
    assert.equal(takerOrder({ ...m, minAmount: '0.2' }, 'buy', 100, 0.01, 0).amount, '0.200');
    assert.equal(takerOrder(m, 'sell', 0.01, 1, 5_000).price, '0.01');
  });
});
