import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractError, encodeEventBatch, type EventBatch } from '@parallax/contracts';
import { DoneReason, encodeEvents, EventEncoder, OrderType, Side, TimeInForce, type BookEvent } from '@parallax/order-book';
import { tradesOfEventBatch, type SettlementTrade } from './trades.js';

function batchOf(marketId: number, events: readonly BookEvent[]): Uint8Array {
  const firstSeq = events[0]!.seq;
  const batch: EventBatch = {
    marketId,
    inputPartition: 2,
    inputOffset: 77,
    firstSeq,
    lastSeq: firstSeq + events.length - 1,
    eventCount: events.length,
    stateHash: '0123456789abcdef',
    sentAtMs: 1_700_000_000_000,
    events: encodeEvents(events),
  };
  return encodeEventBatch(batch);
}

/** A taker buy of 7 lots at up to 101 sweeping two resting sells (100 x 5, 101 x 5). */
const SWEEP: BookEvent[] = [
  { type: 'accepted', seq: 10, ts: 3, orderId: 3, accountId: 30, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 101, size: 7 },
  { type: 'trade', seq: 11, ts: 3, makerOrderId: 1, makerAccountId: 10, takerOrderId: 3, takerAccountId: 30, takerSide: Side.Buy, price: 100, size: 5 },
  { type: 'done', seq: 12, ts: 3, orderId: 1, accountId: 10, reason: DoneReason.FILLED, remaining: 0 },
  { type: 'level', seq: 13, ts: 3, side: Side.Sell, price: 100, size: 0 },
  { type: 'trade', seq: 14, ts: 3, makerOrderId: 2, makerAccountId: 20, takerOrderId: 3, takerAccountId: 30, takerSide: Side.Buy, price: 101, size: 2 },
  { type: 'done', seq: 15, ts: 3, orderId: 3, accountId: 30, reason: DoneReason.FILLED, remaining: 0 },
  { type: 'level', seq: 16, ts: 3, side: Side.Sell, price: 101, size: 3 },
];

describe('tradesOfEventBatch', () => {
  it('returns only the trades, with market, seq, order and account ids, taker side, price, size and ts', () => {
    const trades = tradesOfEventBatch(batchOf(42, SWEEP));
    // The account ids are kept: without them a reused order id would settle against another trader's signature.
    const expected: SettlementTrade[] = [
      { marketId: 42, seq: 11, makerOrderId: 1, makerAccountId: 10, takerOrderId: 3, takerAccountId: 30, takerSide: 'BUY', priceTicks: 100, sizeLots: 5, ts: 3 },
      { marketId: 42, seq: 14, makerOrderId: 2, makerAccountId: 20, takerOrderId: 3, takerAccountId: 30, takerSide: 'BUY', priceTicks: 101, sizeLots: 2, ts: 3 },
    ];
    assert.deepEqual(trades, expected);
  });

  it('maps a sell taker to SELL and keeps maker and taker apart', () => {
    const enc = new EventEncoder();
    enc.onAccepted(1, 9, 8, 80, Side.Sell, OrderType.Market, TimeInForce.IOC, 0, 4);
    enc.onTrade(2, 9, 5, 50, 8, 80, Side.Sell, 250, 4);
    enc.onLevel(3, 9, Side.Buy, 250, 0);
    enc.onDone(4, 9, 8, 80, DoneReason.FILLED, 0);
    const bytes = encodeEventBatch({
      marketId: 0,
      inputPartition: 0,
      inputOffset: 0,
      firstSeq: 1,
      lastSeq: 4,
      eventCount: 4,
      stateHash: 'ffffffffffffffff',
      sentAtMs: 0,
      events: enc.bytes(),
    });
    assert.deepEqual(tradesOfEventBatch(bytes), [
      { marketId: 0, seq: 2, makerOrderId: 5, makerAccountId: 50, takerOrderId: 8, takerAccountId: 80, takerSide: 'SELL', priceTicks: 250, sizeLots: 4, ts: 9 },
    ]);
  });

  it('returns no trades for a batch without any', () => {
    const events: BookEvent[] = [
      { type: 'accepted', seq: 1, ts: 1, orderId: 1, accountId: 1, side: Side.Sell, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 100, size: 5 },
      { type: 'level', seq: 2, ts: 1, side: Side.Sell, price: 100, size: 5 },
    ];
    assert.deepEqual(tradesOfEventBatch(batchOf(1, events)), []);
  });

  it('keeps large safe-integer values exact', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const events: BookEvent[] = [
      { type: 'trade', seq: big - 1, ts: big, makerOrderId: big, makerAccountId: 1, takerOrderId: big - 2, takerAccountId: 2, takerSide: Side.Sell, price: big, size: big },
    ];
    assert.deepEqual(tradesOfEventBatch(batchOf(7, events)), [
      { marketId: 7, seq: big - 1, makerOrderId: big, makerAccountId: 1, takerOrderId: big - 2, takerAccountId: 2, takerSide: 'SELL', priceTicks: big, sizeLots: big, ts: big },
    ]);
  });

  it('throws ContractError for messages that are not EventBatches', () => {
    const good = batchOf(42, SWEEP);
    const cases: Uint8Array[] = [
      new Uint8Array(),
      new Uint8Array([1, 2]),
      new Uint8Array(64).fill(0xff),
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
      Uint8Array.from(good, (b, i) => (i === 0 ? b ^ 0xff : b)), // magic byte
    ];
    for (const bytes of cases) assert.throws(() => tradesOfEventBatch(bytes), ContractError);
  });

  it('throws ContractError when the events disagree with the header (count, seq, undecodable bytes)', () => {
    const header = { marketId: 1, inputPartition: 0, inputOffset: 0, stateHash: '0000000000000000', sentAtMs: 0 };
    const two = encodeEvents(SWEEP.slice(0, 2));
    // Announces three events, carries two.
    assert.throws(() => tradesOfEventBatch(encodeEventBatch({ ...header, firstSeq: 10, lastSeq: 12, eventCount: 3, events: two })), ContractError);
    // Events start at seq 10, header says 11.
    assert.throws(() => tradesOfEventBatch(encodeEventBatch({ ...header, firstSeq: 11, lastSeq: 12, eventCount: 2, events: two })), ContractError);
    // An unknown event kind byte.
    assert.throws(() => tradesOfEventBatch(encodeEventBatch({ ...header, firstSeq: 1, lastSeq: 1, eventCount: 1, events: new Uint8Array([0xee, 1, 1]) })), ContractError);
    // A trade whose taker side is neither buy nor sell.
    const badSide = new EventEncoder();
    badSide.onTrade(1, 1, 1, 1, 2, 2, 7 as Side, 100, 1);
    assert.throws(() => tradesOfEventBatch(encodeEventBatch({ ...header, firstSeq: 1, lastSeq: 1, eventCount: 1, events: badSide.bytes() })), ContractError);
  });

  it('property: any bytes either decode or throw ContractError, never anything else', () => {
    const good = batchOf(42, SWEEP);
    const onlyContractErrors = (bytes: Uint8Array): void => {
      try {
        tradesOfEventBatch(bytes);
      } catch (err) {
        assert.ok(err instanceof ContractError, `threw ${String(err)}`);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyContractErrors), { numRuns: 500 });
    // Mutations of a valid message reach much deeper than random bytes.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat({ max: good.length }), (edits, cut) => {
        const bytes = good.slice(0, Math.max(cut, 3));
        for (const [i, b] of edits) if (i < bytes.length) bytes[i] = b;
        onlyContractErrors(bytes);
      }),
      { numRuns: 1_000 },
    );
  });
});
