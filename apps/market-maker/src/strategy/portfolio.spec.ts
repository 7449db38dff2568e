import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Portfolio, type Fill } from './portfolio.js';

const assets = (m: string) => (m === 'M1-USDC' ? { base: 'M1', quote: 'USDC' } : undefined);
const fill = (id: string, side: 'buy' | 'sell', price: string, amount: string, orderId = '7'): Fill => ({ id, orderId, market: 'M1-USDC', side, price, amount });

describe('portfolio', () => {
  it('counts each fill once, however often it arrives (stream, then REST after a reconnect)', () => {
    const p = new Portfolio(assets);
    assert.equal(p.apply(fill('1', 'buy', '100', '2')), true);
    assert.equal(p.apply(fill('1', 'buy', '100', '2')), false);
    assert.equal(p.apply({ ...fill('1', 'buy', '100', '2') }), false);
    assert.equal(p.counted, 1);
    assert.equal(p.position('M1-USDC'), 2);
    assert.deepEqual(Object.fromEntries(p.inventory()), { M1: 2, USDC: -200 });
  });

  it('tells apart the two sides of one trade (same trade id, different orders) and ignores fills from before the start', () => {
    const p = new Portfolio(assets);
    p.ignore([fill('5', 'sell', '100', '1', '1')]);
    assert.equal(p.apply(fill('5', 'sell', '100', '1', '1')), false);
    assert.equal(p.apply(fill('5', 'buy', '100', '1', '2')), true);
    assert.equal(p.position('M1-USDC'), 1);
  });

  it('realises P&L against the average price and marks the rest', () => {
    const p = new Portfolio(assets);
    p.apply(fill('1', 'buy', '100', '1'));
    p.apply(fill('2', 'buy', '102', '1'));
    assert.equal(p.unrealised('M1-USDC', 105), 2 * (105 - 101));
    p.apply(fill('3', 'sell', '104', '1.5'));
    assert.equal(p.realised('M1-USDC'), 1.5 * 3);
    assert.equal(p.position('M1-USDC'), 0.5);
    // Flipping short: the closed half realises, the rest opens at the fill price.
    p.apply(fill('4', 'sell', '100', '1.5'));
    assert.equal(p.realised('M1-USDC'), 4.5 + 0.5 * (100 - 101));
    assert.equal(p.position('M1-USDC'), -1);
    assert.equal(p.unrealised('M1-USDC', 90), 10);
  });

  it('refuses fills of unknown markets and malformed numbers without counting them', () => {
    const p = new Portfolio(assets);
    assert.equal(p.apply({ ...fill('1', 'buy', '100', '1'), market: 'X-Y' }), false);
    assert.equal(p.apply(fill('2', 'buy', 'abc', '1')), false);
    assert.equal(p.apply(fill('3', 'buy', '100', '-1')), false);
    assert.equal(p.counted, 0);
  });
});
