// The candle folding the gateway (in memory) and the projector (per batch, merged by SQL) both use: period
// boundaries, the first trade of a period, volume in lots of the base asset, and the merge into longer periods
// agreeing with folding the trades straight into them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { candlesFrom, candleStart, foldTrade, MINUTE_MS, Side, tradeRecord, type Candle } from './index.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Trades (ts ascending) folded into candles of `periodMs`, as a caller keeping the last candle does. */
function fold(trades: readonly { ts: number; price: number; size: number }[], periodMs: number): Candle[] {
  const out: Candle[] = [];
  for (const t of trades) {
    const last = out.at(-1);
    const c = foldTrade(last, t.ts, t.price, t.size, periodMs);
    if (c !== last) out.push(c);
  }
  return out;
}

describe('trade records', () => {
  it('keep every field of the trade event but its type tag', () => {
    const t = { seq: 9, ts: 1_000, makerOrderId: 1, makerAccountId: 2, takerOrderId: 3, takerAccountId: 4, takerSide: Side.Sell, price: 100, size: 7 };
    assert.deepEqual(tradeRecord({ type: 'trade', ...t }), t);
  });
});

describe('candles', () => {
  it('puts a trade in the period holding it: the last ms of a period and the first of the next are apart', () => {
    assert.equal(candleStart(0), 0);
    assert.equal(candleStart(59_999), 0);
    assert.equal(candleStart(60_000), 60_000);
    assert.equal(candleStart(DAY_MS - 1, DAY_MS), 0);
    assert.equal(candleStart(DAY_MS, DAY_MS), DAY_MS);
    assert.equal(candleStart(5 * HOUR_MS + 1, 4 * HOUR_MS), 4 * HOUR_MS);
    const candles = fold(
      [
        { ts: 59_999, price: 10, size: 1 },
        { ts: 60_000, price: 20, size: 2 },
      ],
      MINUTE_MS,
    );
    assert.deepEqual(candles, [
      { start: 0, open: 10, high: 10, low: 10, close: 10, volume: 1 },
      { start: 60_000, open: 20, high: 20, low: 20, close: 20, volume: 2 },
    ]);
  });

  it('opens a candle with the first trade of its period, whatever candle the caller had before', () => {
    assert.deepEqual(foldTrade(undefined, 125_000, 7, 3), { start: 120_000, open: 7, high: 7, low: 7, close: 7, volume: 3 });
    const earlier: Candle = { start: 0, open: 1, high: 9, low: 1, close: 5, volume: 4 };
    const next = foldTrade(earlier, 61_000, 8, 2);
    assert.notEqual(next, earlier);
    assert.deepEqual(next, { start: 60_000, open: 8, high: 8, low: 8, close: 8, volume: 2 });
    assert.deepEqual(earlier, { start: 0, open: 1, high: 9, low: 1, close: 5, volume: 4 }, 'the earlier candle is left as it was');
  });

  it('widens the candle of the same period in place: open kept, high/low widened, close last, volume in lots (not notional)', () => {
    const c = foldTrade(undefined, 1_000, 100, 2);
    assert.equal(foldTrade(c, 2_000, 130, 5), c);
    assert.equal(foldTrade(c, 3_000, 90, 1), c);
    assert.equal(foldTrade(c, 59_999, 110, 4), c);
    assert.deepEqual(c, { start: 0, open: 100, high: 130, low: 90, close: 110, volume: 12 });
  });

  it('merges one-minute candles into a longer period as folding the trades straight into it would', () => {
    const trade = fc.record({ gap: fc.integer({ min: 0, max: 3 * HOUR_MS }), price: fc.integer({ min: 1, max: 1_000_000 }), size: fc.integer({ min: 1, max: 1_000_000 }) });
    fc.assert(
      fc.property(fc.array(trade, { maxLength: 200 }), fc.constantFrom(5 * MINUTE_MS, 15 * MINUTE_MS, HOUR_MS, 4 * HOUR_MS, DAY_MS), fc.integer({ min: 0, max: 2 * DAY_MS }), (gaps, periodMs, fromMs) => {
        let ts = 1_700_000_000_000;
        const trades = gaps.map((g) => ({ ts: (ts += g.gap), price: g.price, size: g.size }));
        const want = fold(trades, periodMs).filter((c) => c.start >= candleStart(1_700_000_000_000 + fromMs, periodMs));
        assert.deepEqual(candlesFrom(fold(trades, MINUTE_MS), periodMs, 1_700_000_000_000 + fromMs), want);
      }),
    );
  });

  it('starts from the period holding `fromMs` and leaves the candles it read unchanged', () => {
    const minutes: Candle[] = [
      { start: 0, open: 5, high: 6, low: 4, close: 6, volume: 1 },
      { start: 4 * MINUTE_MS, open: 6, high: 9, low: 6, close: 7, volume: 2 },
      { start: 5 * MINUTE_MS, open: 7, high: 7, low: 3, close: 3, volume: 3 },
      { start: 9 * MINUTE_MS, open: 3, high: 4, low: 2, close: 4, volume: 4 },
    ];
    const copy = structuredClone(minutes);
    assert.deepEqual(candlesFrom(minutes, 5 * MINUTE_MS, 6 * MINUTE_MS), [{ start: 5 * MINUTE_MS, open: 7, high: 7, low: 2, close: 4, volume: 7 }]);
    assert.deepEqual(candlesFrom(minutes, 5 * MINUTE_MS, 0), [
      { start: 0, open: 5, high: 9, low: 4, close: 7, volume: 3 },
      { start: 5 * MINUTE_MS, open: 7, high: 7, low: 2, close: 4, volume: 7 },
    ]);
    assert.deepEqual(candlesFrom(minutes, HOUR_MS, 10 * MINUTE_MS), [{ start: 0, open: 5, high: 9, low: 2, close: 4, volume: 10 }]);
    assert.deepEqual(candlesFrom([], HOUR_MS, 0), []);
    assert.deepEqual(minutes, copy);
  });
});
