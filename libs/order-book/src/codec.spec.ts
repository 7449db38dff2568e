import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BookEvent } from './index.js';
import { EventEncoder, EventKind, OrderBookError, decodeEvents, encodeEvents } from './index.js';

const sample: BookEvent[] = [
  { type: 'accepted', seq: 1, ts: 1_700_000_000_000, orderId: 2 ** 53 - 1, accountId: 0, side: 1, orderType: 0, tif: 3, price: 127, size: 128 },
  { type: 'rejected', seq: 2, ts: 5, command: 2, orderId: 0, accountId: 9, reason: 21 },
  { type: 'trade', seq: 3, ts: 5, makerOrderId: 1, makerAccountId: 2, takerOrderId: 3, takerAccountId: 4, takerSide: 0, price: 2 ** 40, size: 1 },
  { type: 'done', seq: 4, ts: 5, orderId: 1, accountId: 2, reason: 1, remaining: 0 },
  { type: 'amended', seq: 5, ts: 5, orderId: 1, accountId: 2, price: 3, size: 4, reason: 2 },
  { type: 'level', seq: 6, ts: 5, side: 0, price: 2 ** 31, size: 0 },
];

describe('event byte encoding', () => {
  it('round-trips every event kind, including large safe integers', () => {
    const bytes = encodeEvents(sample);
    assert.deepEqual(decodeEvents(bytes), sample);
    assert.equal(bytes[0], EventKind.Accepted);
  });

  it('is deterministic and concatenative', () => {
    const whole = encodeEvents(sample);
    const parts = sample.map((e) => encodeEvents([e]));
    assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
    assert.deepEqual(encodeEvents(sample), whole);
  });

  it('uses the documented varint layout', () => {
    const bytes = encodeEvents([{ type: 'level', seq: 300, ts: 1, side: 1, price: 127, size: 128 }]);
    assert.deepEqual([...bytes], [EventKind.Level, 0xac, 0x02, 1, 1, 127, 0x80, 0x01]);
  });

  it('EventEncoder grows and resets', () => {
    const enc = new EventEncoder(1);
    for (let i = 0; i < 1000; i++) enc.onLevel(i + 1, i, 0, i, i);
    assert.equal(decodeEvents(enc.bytes()).length, 1000);
    enc.reset();
    assert.equal(enc.length, 0);
    assert.deepEqual(enc.bytes(), new Uint8Array());
  });

  it('rejects malformed bytes with INVALID_EVENT_BYTES', () => {
    const bad = (b: number[]): void => {
      assert.throws(() => decodeEvents(Uint8Array.from(b)), (e: unknown) => e instanceof OrderBookError && e.code === 'INVALID_EVENT_BYTES');
    };
    bad([99]); // unknown kind
    bad([EventKind.Level, 1, 1]); // truncated
    bad([EventKind.Level, 1, 1, 2, 1, 1]); // side out of range
    bad([EventKind.Level, 0x81, 0x00, 1, 0, 1, 1]); // non-canonical varint
    bad([EventKind.Level, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // too long
    bad([EventKind.Level, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]); // > 2^53
    const full = encodeEvents(sample);
    for (let n = 1; n < full.length; n++) {
      try {
        decodeEvents(full.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof OrderBookError && e.code === 'INVALID_EVENT_BYTES');
      }
    }
  });
});
