import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Command } from '@parallax/order-book';
import { EventCollector, EventEncoder, OrderBook, OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import type { EventBatch } from './events.js';
import { decodeEventBatch, decodeEventBatchEvents, encodeEventBatch } from './events.js';
import { defaultMarkets } from '../catalogue/markets.js';
import { eventBatchArb } from '../testing/arbitraries.js';

const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;

function limit(ts: number, orderId: number, side: Side, price: number, size: number): Command {
  return { type: 'place', ts, orderId, accountId: orderId % 3, side, orderType: OrderType.Limit, price, size, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None };
}

/** Applies commands to a fresh book and packs the events of the last command as the engine would. */
function realBatch(): { batch: EventBatch; collected: EventCollector } {
  const config = defaultMarkets(1)[0]!.config;
  const enc = new EventEncoder();
  const collected = new EventCollector();
  const book = new OrderBook(config, enc);
  book.apply(limit(1, 1, Side.Sell, 100, 5));
  book.apply(limit(2, 2, Side.Sell, 101, 5));
  const before = book.sequence;
  enc.reset();
  book.setSink({
    onAccepted: (...a) => { enc.onAccepted(...a); collected.onAccepted(...a); },
    onRejected: (...a) => { enc.onRejected(...a); collected.onRejected(...a); },
    onTrade: (...a) => { enc.onTrade(...a); collected.onTrade(...a); },
    onDone: (...a) => { enc.onDone(...a); collected.onDone(...a); },
    onAmended: (...a) => { enc.onAmended(...a); collected.onAmended(...a); },
    onLevel: (...a) => { enc.onLevel(...a); collected.onLevel(...a); },
  });
  book.apply(limit(3, 3, Side.Buy, 101, 7));
  const batch: EventBatch = {
    marketId: 1,
    inputPartition: 1,
    inputOffset: 42,
    firstSeq: before + 1,
    lastSeq: book.sequence,
    eventCount: book.sequence - before,
    stateHash: book.stateHash(),
    sentAtMs: 1_700_000_000_123,
    events: enc.bytes(),
  };
  return { batch, collected };
}

describe('event batch contract', () => {
  it('round-trips any batch', () => {
    fc.assert(
      fc.property(eventBatchArb, (b) => {
        const bytes = encodeEventBatch(b);
        assert.deepEqual(decodeEventBatch(bytes), b);
        assert.deepEqual(encodeEventBatch(b), bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('carries real book events whose objects come back with checked count and sequence', () => {
    const { batch, collected } = realBatch();
    assert.ok(batch.eventCount >= 3, 'the crossing order trades, finishes a maker and rests');
    const decoded = decodeEventBatch(encodeEventBatch(batch));
    assert.deepEqual(decoded, batch);
    assert.deepEqual(decodeEventBatchEvents(decoded), collected.events);
  });

  it('refuses batches inconsistent with their events', () => {
    const { batch } = realBatch();
    assert.throws(() => decodeEventBatchEvents({ ...batch, eventCount: batch.eventCount + 1, lastSeq: batch.lastSeq + 1 }), isCode('INVALID_FIELD'));
    assert.throws(() => decodeEventBatchEvents({ ...batch, firstSeq: batch.firstSeq + 1, lastSeq: batch.lastSeq + 1 }), isCode('INVALID_FIELD'));
    assert.throws(() => decodeEventBatchEvents({ ...batch, events: Uint8Array.from([0xee, 1, 2]) }), isCode('MALFORMED_MESSAGE'));
    assert.throws(() => decodeEventBatchEvents({ ...batch, events: batch.events.subarray(0, batch.events.length - 1) }), isCode('MALFORMED_MESSAGE'));
  });

  it('validates fields on encode (INVALID_FIELD)', () => {
    const { batch } = realBatch();
    const bad: Partial<Record<keyof EventBatch, unknown>>[] = [
      { lastSeq: batch.lastSeq + 1 },
      { firstSeq: 0, lastSeq: batch.eventCount - 1 },
      { eventCount: 0, lastSeq: batch.firstSeq - 1 },
      { stateHash: 'ABCDEF0123456789' },
      { stateHash: '0123' },
      { events: new Uint8Array(0) },
      { events: [1, 2, 3] },
      { inputOffset: -1 },
      { sentAtMs: 1.5 },
    ];
    for (const patch of bad) {
      assert.throws(() => encodeEventBatch({ ...batch, ...patch } as EventBatch), isCode('INVALID_FIELD'), JSON.stringify(patch));
    }
  });

  it('refuses zero or overflowing sequences on decode', () => {
    const hash = [1, 2, 3, 4, 5, 6, 7, 8];
    // header, market 1, partition 0, offset 0, firstSeq, count, hash, sentAt 0, events [1 byte]
    const msg = (firstSeq: number[], count: number[]) => Uint8Array.from([0x50, 2, 1, 1, 0, 0, ...firstSeq, ...count, ...hash, 0, 1, 9]);
    assert.equal(decodeEventBatch(msg([1], [1])).lastSeq, 1);
    assert.throws(() => decodeEventBatch(msg([0], [1])), isCode('INVALID_FIELD'));
    assert.throws(() => decodeEventBatch(msg([1], [0])), isCode('INVALID_FIELD'));
    const maxSafe = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert.equal(decodeEventBatch(msg(maxSafe, [1])).lastSeq, Number.MAX_SAFE_INTEGER);
    assert.throws(() => decodeEventBatch(msg(maxSafe, [2])), isCode('INVALID_FIELD'));
    assert.throws(() => decodeEventBatch(Uint8Array.from([0x50, 2, 1, 1, 0, 0, 1, 1, ...hash, 0, 0])), isCode('INVALID_FIELD'));
  });
});
