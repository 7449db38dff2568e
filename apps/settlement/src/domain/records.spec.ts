import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { SettlementMarket } from '@parallax/chain';
import type { SignedOrderRecord } from '@parallax/contracts';
import { fillKey, orderKey, signedOrderOf, toFillRecord, toOrderRecord } from './records.js';
import type { SettlementTrade } from './trades.js';

const UINT128_MAX = (1n << 128n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
// A mixed-case EIP-55 address (the checksum changes the case of its letters).
const TRADER_LOWER = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed';
const TRADER_CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const SIGNATURE = `0x${'ab'.repeat(32)}${'1b'.repeat(33)}` as const;

const MARKET: SettlementMarket = {
  marketId: 12,
  baseToken: '0x00000000000000000000000000000000000000A2',
  quoteToken: '0x00000000000000000000000000000000000000A3',
  lotSize: 10n ** 15n,
  tickSize: 1000n,
};

const signed = (over: Partial<SignedOrderRecord> = {}): SignedOrderRecord => ({
  orderId: 9_007_199_254_740_991,
  accountId: 4_294_967_296,
  trader: TRADER_LOWER,
  isBuy: true,
  price: UINT128_MAX,
  size: UINT128_MAX - 1n,
  maxFeeRate: 100_000,
  expiry: UINT64_MAX,
  nonce: UINT64_MAX - 5n,
  signature: SIGNATURE,
  ...over,
});

describe('records', () => {
  it('orderKey is market/orderId', () => {
    assert.equal(orderKey(3, 17n), '3/17');
    assert.notEqual(orderKey(1, 23n), orderKey(12, 3n));
  });

  it('fillKey keeps only (marketId, seq)', () => {
    const rec = toFillRecord({ marketId: 5, seq: 8, makerOrderId: 1, makerAccountId: 10, takerOrderId: 2, takerAccountId: 20, takerSide: 'BUY', priceTicks: 3, sizeLots: 4, ts: 6 });
    assert.deepEqual(fillKey(rec), { marketId: 5, seq: 8n });
  });

  describe('toFillRecord', () => {
    it('carries every field of the trade exactly, as bigint', () => {
      const t: SettlementTrade = { marketId: 4, seq: 11, makerOrderId: 1, makerAccountId: 7, takerOrderId: 3, takerAccountId: 9, takerSide: 'SELL', priceTicks: 100, sizeLots: 5, ts: 3 };
      assert.deepEqual(toFillRecord(t), { marketId: 4, seq: 11n, makerOrderId: 1n, takerOrderId: 3n, makerAccountId: 7n, takerAccountId: 9n, takerSide: 'SELL', priceTicks: 100n, sizeLots: 5n, ts: 3n });
    });

    it('property: round-trips any safe-integer trade', () => {
      const n = fc.nat({ max: Number.MAX_SAFE_INTEGER });
      const tradeArb = fc.record({
        marketId: n,
        seq: n,
        makerOrderId: n,
        makerAccountId: n,
        takerOrderId: n,
        takerAccountId: n,
        takerSide: fc.constantFrom('BUY' as const, 'SELL' as const),
        priceTicks: n,
        sizeLots: n,
        ts: n,
      });
      fc.assert(
        fc.property(tradeArb, (t) => {
          const r = toFillRecord(t);
          const back: SettlementTrade = {
            marketId: r.marketId,
            seq: Number(r.seq),
            makerOrderId: Number(r.makerOrderId),
            makerAccountId: Number(r.makerAccountId),
            takerOrderId: Number(r.takerOrderId),
            takerAccountId: Number(r.takerAccountId),
            takerSide: r.takerSide,
            priceTicks: Number(r.priceTicks),
            sizeLots: Number(r.sizeLots),
            ts: Number(r.ts),
          };
          assert.deepEqual(back, { ...t });
          assert.equal(r.seq, BigInt(t.seq));
          assert.equal(r.priceTicks, BigInt(t.priceTicks));
        }),
      );
    });
  });

  describe('toOrderRecord', () => {
    it('keeps uint128 prices and sizes, uint64 nonces and expiries, and the ids exactly', () => {
      const r = toOrderRecord(12, signed());
      assert.deepEqual(r, {
        marketId: 12,
        orderId: 9_007_199_254_740_991n,
        accountId: 4_294_967_296n,
        trader: TRADER_LOWER,
        isBuy: true,
        price: UINT128_MAX,
        size: UINT128_MAX - 1n,
        nonce: UINT64_MAX - 5n,
        maxFeeRate: 100_000,
        expiry: UINT64_MAX,
        signature: SIGNATURE,
      });
    });

    it('keeps a market sell at price 0', () => {
      const r = toOrderRecord(1, signed({ isBuy: false, price: 0n, size: 1n, nonce: 0n, expiry: 0n, maxFeeRate: 0 }));
      assert.equal(r.isBuy, false);
      assert.equal(r.price, 0n);
      assert.equal(r.size, 1n);
      assert.equal(r.nonce, 0n);
      assert.equal(r.expiry, 0n);
      assert.equal(r.maxFeeRate, 0);
    });
  });

  describe('signedOrderOf', () => {
    it('rebuilds the signed order with a checksummed trader and the market token pair', () => {
      const o = signedOrderOf(MARKET, toOrderRecord(MARKET.marketId, signed()));
      assert.deepEqual(o, {
        trader: TRADER_CHECKSUMMED,
        baseToken: MARKET.baseToken,
        quoteToken: MARKET.quoteToken,
        isBuy: true,
        price: UINT128_MAX,
        size: UINT128_MAX - 1n,
        maxFeeRate: 100_000,
        expiry: UINT64_MAX,
        nonce: UINT64_MAX - 5n,
        signature: SIGNATURE,
      });
    });

    it('gives the same checksummed trader whatever case the record stored', () => {
      for (const trader of [TRADER_LOWER, TRADER_CHECKSUMMED, TRADER_LOWER.toUpperCase().replace('0X', '0x')] as const) {
        const o = signedOrderOf(MARKET, toOrderRecord(MARKET.marketId, signed({ trader: trader as `0x${string}` })));
        assert.equal(o.trader, TRADER_CHECKSUMMED);
      }
    });

    it('property: every signed field survives toOrderRecord -> signedOrderOf exactly', () => {
      const u = (bits: bigint) => fc.bigInt({ min: 0n, max: (1n << bits) - 1n });
      const recordArb = fc.record({
        orderId: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        accountId: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        trader: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as const),
        isBuy: fc.boolean(),
        price: u(128n),
        size: u(128n),
        maxFeeRate: fc.integer({ min: 0, max: 100_000 }),
        expiry: u(64n),
        nonce: u(64n),
        signature: fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as const),
      });
      fc.assert(
        fc.property(recordArb, (rec) => {
          const stored = toOrderRecord(MARKET.marketId, rec);
          assert.equal(stored.orderId, BigInt(rec.orderId));
          assert.equal(stored.accountId, BigInt(rec.accountId));
          const o = signedOrderOf(MARKET, stored);
          assert.equal(o.trader.toLowerCase(), rec.trader);
          assert.equal(o.price, rec.price);
          assert.equal(o.size, rec.size);
          assert.equal(o.expiry, rec.expiry);
          assert.equal(o.nonce, rec.nonce);
          assert.equal(o.maxFeeRate, rec.maxFeeRate);
          assert.equal(o.isBuy, rec.isBuy);
          assert.equal(o.signature, rec.signature);
          assert.equal(o.baseToken, MARKET.baseToken);
          assert.equal(o.quoteToken, MARKET.quoteToken);
        }),
      );
    });
  });
});
