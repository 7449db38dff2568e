import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderBook } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import { defaultMarkets, MarketCatalogue, parseMarketCatalogue } from './markets.js';

const market = {
  marketId: 1,
  symbol: 'ETH-USDC',
  baseAsset: 'ETH',
  quoteAsset: 'USDC',
  tickSize: '0.01',
  lotSize: '0.0001',
  config: { minSize: 1, minNotional: 0, maxOpenOrdersPerAccount: 200, priceBandBps: 500, initialReferencePrice: 300_000 },
};

function failure(json: string): ContractError {
  try {
    parseMarketCatalogue(json);
  } catch (e) {
    if (e instanceof ContractError) return e;
    throw e;
  }
  assert.fail(`accepted ${json}`);
}
const expectError = (json: string, code: ContractErrorCode, ...fragments: string[]) => {
  const e = failure(json);
  assert.equal(e.code, code, e.message);
  for (const f of fragments) assert.ok(e.message.includes(f), `"${f}" missing from: ${e.message}`);
};

describe('market catalogue', () => {
  it('defaultMarkets is deterministic, dense from 1, permissive and usable by the book', () => {
    const a = defaultMarkets(5);
    assert.deepEqual(a, defaultMarkets(5));
    assert.deepEqual(a.map((m) => m.marketId), [1, 2, 3, 4, 5]);
    assert.equal(new Set(a.map((m) => m.symbol)).size, 5);
    for (const m of a) {
      assert.equal(m.config.marketId, m.marketId);
      assert.deepEqual([m.config.minSize, m.config.minNotional, m.config.maxOpenOrdersPerAccount, m.config.priceBandBps], [0, 0, 0, 0]);
      assert.equal(new OrderBook(m.config).config.marketId, m.marketId);
    }
    assert.equal(new MarketCatalogue(a).size, 5);
    for (const n of [0, -1, 1.5]) assert.throws(() => defaultMarkets(n), (e: unknown) => e instanceof ContractError && e.code === 'INVALID_FIELD');
  });

  it('parses { markets: [...] } and bare arrays, filling config.marketId', () => {
    const c = parseMarketCatalogue(JSON.stringify({ markets: [market, { ...market, marketId: 2, symbol: 'BTC-USDC', baseAsset: 'BTC' }] }));
    assert.equal(c.size, 2);
    assert.equal(c.get(1)?.config.marketId, 1);
    assert.equal(c.get(2)?.config.marketId, 2);
    assert.equal(c.bySymbol('BTC-USDC')?.marketId, 2);
    assert.equal(c.get(3), undefined);
    assert.equal(parseMarketCatalogue(JSON.stringify([market])).getOrThrow(1).symbol, 'ETH-USDC');
    // toJSON is the file format.
    assert.deepEqual(parseMarketCatalogue(JSON.stringify(c)).all(), c.all());
  });

  it('carries the book safety rules (time step bound, unique order ids) through to the book', () => {
    const c = parseMarketCatalogue(JSON.stringify([{ ...market, config: { ...market.config, maxTimestampStep: 60_000, uniqueOrderIds: true } }]));
    const cfg = new OrderBook(c.getOrThrow(1).config).config;
    assert.equal(cfg.maxTimestampStep, 60_000);
    assert.equal(cfg.uniqueOrderIds, true);
    assert.deepEqual(parseMarketCatalogue(JSON.stringify(c)).all(), c.all());
    // Absent, both are off (the book's defaults).
    assert.equal(parseMarketCatalogue(JSON.stringify([market])).getOrThrow(1).config.maxTimestampStep, undefined);
  });

  it('lists markets by id and throws UNKNOWN_MARKET for a missing one', () => {
    const c = new MarketCatalogue([...defaultMarkets(3)].reverse());
    assert.deepEqual(c.all().map((m) => m.marketId), [1, 2, 3]);
    assert.ok(c.has(2));
    assert.throws(() => c.getOrThrow(4), (e: unknown) => e instanceof ContractError && e.code === 'UNKNOWN_MARKET');
  });

  it('reports clear errors', () => {
    expectError('{"markets": [', 'MALFORMED_MESSAGE', 'not valid JSON');
    expectError(JSON.stringify({ markets: [] }), 'INVALID_FIELD', 'at least one market');
    expectError(JSON.stringify({ markets: [{ ...market, tickSize: '0' }] }), 'INVALID_FIELD', 'markets[0].tickSize', 'greater than zero');
    expectError(JSON.stringify({ markets: [{ ...market, lotSize: '1e-3' }] }), 'INVALID_FIELD', 'markets[0].lotSize');
    expectError(JSON.stringify({ markets: [{ ...market, tickSize: 0.01 }] }), 'INVALID_FIELD', 'markets[0].tickSize');
    expectError(JSON.stringify({ markets: [{ ...market, marketId: 0 }] }), 'INVALID_FIELD', 'markets[0].marketId');
    expectError(JSON.stringify({ markets: [{ ...market, config: { ...market.config, marketId: 2 } }] }), 'INVALID_FIELD', 'markets[0].config.marketId', 'must equal marketId 1');
    expectError(JSON.stringify({ markets: [{ ...market, config: { ...market.config, priceBandBps: 10_001 } }] }), 'INVALID_FIELD', 'priceBandBps');
    expectError(JSON.stringify({ markets: [{ ...market, config: { ...market.config, minSize: -1 } }] }), 'INVALID_FIELD', 'minSize');
    expectError(JSON.stringify({ markets: [{ ...market, config: { ...market.config, minSize: 2 ** 53 } }] }), 'INVALID_FIELD', 'minSize');
    expectError(JSON.stringify({ markets: [{ ...market, colour: 'red' }] }), 'INVALID_FIELD', 'colour');
    expectError(JSON.stringify({ markets: [{ ...market, config: { ...market.config, maxTimestampStep: -1 } }] }), 'INVALID_FIELD', 'maxTimestampStep');
    expectError(JSON.stringify({ markets: [{ ...market, config: { ...market.config, uniqueOrderIds: 1 } }] }), 'INVALID_FIELD', 'uniqueOrderIds');
    expectError(JSON.stringify({ markets: [market, { ...market, symbol: 'X-Y' }] }), 'INVALID_FIELD', 'markets[1].marketId', 'duplicate');
    expectError(JSON.stringify({ markets: [market, { ...market, marketId: 2 }] }), 'INVALID_FIELD', 'markets[1].symbol', 'duplicate');
    expectError(JSON.stringify({ markets: [{ ...market, quoteAsset: 'ETH' }] }), 'INVALID_FIELD', 'quoteAsset');
    expectError(JSON.stringify({ stuff: 1 }), 'INVALID_FIELD', 'markets');
    expectError('42', 'INVALID_FIELD');
  });
});
