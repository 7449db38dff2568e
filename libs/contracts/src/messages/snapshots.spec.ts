import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OrderBook, OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import { defaultMarkets } from '../catalogue/markets.js';
import type { MarketSnapshot } from './snapshots.js';
import { decodeMarketSnapshot, encodeMarketSnapshot } from './snapshots.js';
import { snapshotArb } from '../testing/arbitraries.js';
import { encodeMarketSnapshotV1, legacySnapshotArb } from '../testing/legacy-snapshots.js';

const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;

describe('market snapshot contract', () => {
  it('round-trips any snapshot', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const bytes = encodeMarketSnapshot(s);
        assert.deepEqual(decodeMarketSnapshot(bytes), s);
        assert.deepEqual(encodeMarketSnapshot(s), bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('carries a real book that restores to the same state hash', () => {
    const book = new OrderBook(defaultMarkets(2)[1]!.config);
    for (let i = 1; i <= 50; i++) {
      book.apply({ type: 'place', ts: i, orderId: i, accountId: i % 7, side: i % 2 === 0 ? Side.Buy : Side.Sell, orderType: OrderType.Limit, price: 1000 + (i % 2 === 0 ? -(i % 5) : i % 5), size: i, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None });
    }
    const snap: MarketSnapshot = { marketId: 2, inputPartition: 0, nextOffset: 51, lastSeq: book.sequence, stateHash: book.stateHash(), book: book.snapshot(), partitionMarkets: 3 };
    const decoded = decodeMarketSnapshot(encodeMarketSnapshot(snap));
    assert.deepEqual(decoded, snap);
    const restored = OrderBook.restore(decoded.book);
    assert.equal(restored.stateHash(), decoded.stateHash);
    assert.equal(restored.sequence, decoded.lastSeq);
  });

  it('validates fields', () => {
    const ok: MarketSnapshot = { marketId: 1, inputPartition: 0, nextOffset: 0, lastSeq: 0, stateHash: '0000000000000000', book: Uint8Array.from([1]), partitionMarkets: 1 };
    assert.deepEqual(decodeMarketSnapshot(encodeMarketSnapshot(ok)), ok);
    for (const patch of [{ book: new Uint8Array(0) }, { stateHash: 'xyz' }, { nextOffset: -1 }, { marketId: 2 ** 53 }, { partitionMarkets: 0 }, { partitionMarkets: 1.5 }]) {
      assert.throws(() => encodeMarketSnapshot({ ...ok, ...patch }), isCode('INVALID_FIELD'), JSON.stringify(patch));
    }
    assert.throws(() => decodeMarketSnapshot(Uint8Array.from([0x50, 3, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0])), isCode('INVALID_FIELD'));
  });

  it('writes version 2: the frame version byte 2 and partitionMarkets after the book', () => {
    const bytes = encodeMarketSnapshot({ marketId: 1, inputPartition: 0, nextOffset: 9, lastSeq: 0, stateHash: '0102030405060708', book: Uint8Array.from([0xaa]), partitionMarkets: 2 });
    assert.deepEqual([...bytes], [0x50, 3, 2, 1, 0, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0xaa, 2]);
    // Version 2 without the count, or with 0, is refused; so is a count in a version 1 frame (trailing byte).
    assert.throws(() => decodeMarketSnapshot(bytes.subarray(0, bytes.length - 1)), isCode('MALFORMED_MESSAGE'));
    assert.throws(() => decodeMarketSnapshot(Uint8Array.from([...bytes.subarray(0, bytes.length - 1), 0])), isCode('INVALID_FIELD'));
    assert.throws(() => decodeMarketSnapshot(Uint8Array.from([0x50, 3, 1, ...bytes.subarray(3)])), isCode('MALFORMED_MESSAGE'));
    assert.throws(() => decodeMarketSnapshot(Uint8Array.from([0x50, 3, 3, ...bytes.subarray(3)])), isCode('UNSUPPORTED_VERSION'));
  });

  it('reads version 1 records (written before partitionMarkets) with an unknown count', () => {
    // Hand-built as the previous release's encoder wrote them: header version 1, no partitionMarkets.
    const v1 = Uint8Array.from([0x50, 3, 1, 1, 0, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0xaa]);
    const decoded = decodeMarketSnapshot(v1);
    assert.deepEqual(decoded, { marketId: 1, inputPartition: 0, nextOffset: 9, lastSeq: 0, stateHash: '0102030405060708', book: Uint8Array.from([0xaa]), partitionMarkets: undefined });
    assert.deepEqual(encodeMarketSnapshotV1(decoded), v1);
    // The encoder writes only version 2: an unknown count is never written.
    assert.throws(() => encodeMarketSnapshot(decoded), isCode('INVALID_FIELD'));
    assert.deepEqual(encodeMarketSnapshot({ ...decoded, partitionMarkets: 3 }), Uint8Array.from([0x50, 3, 2, ...v1.subarray(3), 3]));
    assert.throws(() => decodeMarketSnapshot(Uint8Array.from([0x50, 3, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0])), isCode('INVALID_FIELD'));
  });

  it('reads any version 1 snapshot, including a real book', () => {
    fc.assert(
      fc.property(legacySnapshotArb, (s) => {
        const bytes = encodeMarketSnapshotV1(s);
        assert.equal(bytes[2], 1);
        assert.deepEqual(decodeMarketSnapshot(bytes), s);
      }),
      { numRuns: 300 },
    );
    const book = new OrderBook(defaultMarkets(2)[1]!.config);
    book.apply({ type: 'place', ts: 1, orderId: 1, accountId: 1, side: Side.Buy, orderType: OrderType.Limit, price: 1000, size: 5, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None });
    const old = decodeMarketSnapshot(encodeMarketSnapshotV1({ marketId: 2, inputPartition: 0, nextOffset: 1, lastSeq: book.sequence, stateHash: book.stateHash(), book: book.snapshot(), partitionMarkets: undefined }));
    assert.equal(old.partitionMarkets, undefined);
    assert.equal(OrderBook.restore(old.book).stateHash(), book.stateHash());
  });
});
