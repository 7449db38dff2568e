import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import type { SignedOrderBatch, SignedOrderRecord } from './signed-orders.js';
import { decodeSignedOrderBatch, encodeSignedOrderBatch, MAX_SIGNED_ORDER_EXPIRY, MAX_SIGNED_ORDER_FEE_RATE, MAX_SIGNED_ORDERS_PER_BATCH } from './signed-orders.js';
import { signedOrderBatchArb } from '../testing/arbitraries.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;

const record: SignedOrderRecord = {
  orderId: 1,
  accountId: 2,
  trader: `0x${'11'.repeat(20)}`,
  isBuy: true,
  price: 256n,
  size: 1n,
  maxFeeRate: 300,
  expiry: 0n,
  nonce: 7n,
  signature: `0x${'aa'.repeat(65)}`,
};

describe('signed order batch contract', () => {
  it('round-trips any batch deterministically', () => {
    fc.assert(
      fc.property(signedOrderBatchArb, (b) => {
        const bytes = encodeSignedOrderBatch(b);
        assert.deepEqual(decodeSignedOrderBatch(bytes), b);
        assert.deepEqual(encodeSignedOrderBatch(b), bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('has a pinned wire format (type 5, length-prefixed big-endian bigints, raw address and signature)', () => {
    const bytes = encodeSignedOrderBatch({ marketId: 3, orders: [record] });
    // 50 05 01 | market 03 | count 01 | id 01 acct 02 | trader | flags 01 | price 02 0100 | size 01 01 |
    // fee ac02 | expiry 00 | nonce 01 07 | signature
    assert.equal(hex(bytes), ['500501', '03', '01', '0102', '11'.repeat(20), '01', '020100', '0101', 'ac02', '00', '0107', 'aa'.repeat(65)].join(''));
    assert.deepEqual(decodeSignedOrderBatch(bytes), { marketId: 3, orders: [record] });
  });

  it('keeps a realistic record at about 120 bytes', () => {
    const orders: SignedOrderRecord[] = [];
    for (let i = 0; i < 100; i++) {
      orders.push({
        ...record,
        orderId: 5_000_000 + i,
        accountId: 1000 + i,
        price: 2_000_000_000n + BigInt(i) * 10_000n, // 2,000 USDC per 1e18 base units
        size: 1_000_000_000_000_000n * BigInt(1 + i), // 0.001 ETH lots
        maxFeeRate: 2_000,
        expiry: 1_700_000_000n,
        nonce: 100_000n + BigInt(i),
      });
    }
    const perRecord = (encodeSignedOrderBatch({ marketId: 3, orders }).length - 5) / 100;
    assert.ok(perRecord <= 120, `${perRecord} bytes per record`);
  });

  it('decodes addresses and signatures lower-case (the bytes are what count)', () => {
    const mixed = { ...record, trader: `0x${'aB'.repeat(20)}`, signature: `0x${'Cd'.repeat(65)}` } as const;
    const out = decodeSignedOrderBatch(encodeSignedOrderBatch({ marketId: 1, orders: [mixed] }));
    assert.equal(out.orders[0]!.trader, `0x${'ab'.repeat(20)}`);
    assert.equal(out.orders[0]!.signature, `0x${'cd'.repeat(65)}`);
  });

  it('refuses records it cannot represent faithfully (INVALID_FIELD)', () => {
    const bad: [string, unknown][] = [
      ['orderId', -1],
      ['accountId', 1.5],
      ['trader', `0x${'11'.repeat(19)}`],
      ['trader', `0x${'1g'.repeat(20)}`],
      ['trader', '11'.repeat(21)],
      ['isBuy', 1],
      ['price', -1n],
      ['price', 1n << 128n],
      ['price', 5],
      ['size', 0n],
      ['size', 1n << 128n],
      ['maxFeeRate', MAX_SIGNED_ORDER_FEE_RATE + 1],
      ['maxFeeRate', -1],
      ['expiry', 1n << 64n],
      ['nonce', -1n],
      ['nonce', '1'],
      ['signature', `0x${'aa'.repeat(64)}`],
      ['signature', `0x${'aa'.repeat(66)}`],
    ];
    for (const [field, value] of bad) {
      const o = { ...record, [field]: value };
      assert.throws(() => encodeSignedOrderBatch({ marketId: 1, orders: [o] }), isCode('INVALID_FIELD'), `${field}=${String(value)}`);
    }
    assert.throws(() => encodeSignedOrderBatch({ marketId: 1, orders: [] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeSignedOrderBatch({ marketId: -1, orders: [record] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeSignedOrderBatch({ marketId: 1, orders: [{ ...record, expiry: MAX_SIGNED_ORDER_EXPIRY + 1n }] }), isCode('INVALID_FIELD'));
    // Bounds are inclusive, and a failed encode leaves nothing behind in the shared writer.
    const edge: SignedOrderRecord = { ...record, price: (1n << 128n) - 1n, size: (1n << 128n) - 1n, expiry: MAX_SIGNED_ORDER_EXPIRY, nonce: 0n, maxFeeRate: MAX_SIGNED_ORDER_FEE_RATE };
    assert.deepEqual(decodeSignedOrderBatch(encodeSignedOrderBatch({ marketId: 1, orders: [edge] })).orders, [edge]);
  });

  it('carries the client order id when there is one (flag bit 1, after the signature), and only a valid one', () => {
    const withId: SignedOrderRecord = { ...record, clientOrderId: 'bot-7_A' };
    const bytes = encodeSignedOrderBatch({ marketId: 3, orders: [withId, record] });
    assert.deepEqual(decodeSignedOrderBatch(bytes), { marketId: 3, orders: [withId, record] });
    const plain = encodeSignedOrderBatch({ marketId: 3, orders: [record] });
    const one = encodeSignedOrderBatch({ marketId: 3, orders: [withId] });
    assert.equal(one.length, plain.length + 1 + 'bot-7_A'.length);
    assert.equal(one[27], 0x03);
    assert.equal(hex(one.subarray(plain.length)), `07${Buffer.from('bot-7_A').toString('hex')}`);
    for (const bad of ['', 'a'.repeat(37), 'has space', 'é', 7]) {
      assert.throws(() => encodeSignedOrderBatch({ marketId: 3, orders: [{ ...record, clientOrderId: bad as string }] }), isCode('INVALID_FIELD'), String(bad));
    }
    // A forged id on the wire (a byte outside the alphabet) is refused by the reader too.
    const forged = Uint8Array.from(one);
    forged[forged.length - 1] = 0x20;
    assert.throws(() => decodeSignedOrderBatch(forged), isCode('INVALID_FIELD'));
  });

  it('refuses non-canonical and out-of-range encodings', () => {
    const ok = Array.from(encodeSignedOrderBatch({ marketId: 3, orders: [record] }));
    const at = { flags: 27, price: 28, size: 31, fee: 33, expiry: 35, nonce: 36 };
    const patch = (i: number, replace: number, ...insert: number[]): Uint8Array => Uint8Array.from([...ok.slice(0, i), ...insert, ...ok.slice(i + replace)]);
    assert.equal(ok[at.flags], 1);
    const cases: [Uint8Array, ContractErrorCode][] = [
      [patch(at.flags, 1, 0x05), 'MALFORMED_MESSAGE'], // reserved flag bit
      [patch(at.flags, 1, 0x03), 'MALFORMED_MESSAGE'], // says a client order id follows, none does
      [patch(at.price, 3, 0x03, 0x00, 0x01, 0x00), 'MALFORMED_MESSAGE'], // price with a leading zero byte
      [patch(at.price, 3, 0x11, ...new Array<number>(17).fill(1)), 'INVALID_FIELD'], // 17-byte price
      [patch(at.size, 2, 0x00), 'INVALID_FIELD'], // size 0
      [patch(at.fee, 2, 0xa1, 0x8d, 0x06), 'INVALID_FIELD'], // maxFeeRate 100,001
      [patch(at.expiry, 1, 0x09, 1, 1, 1, 1, 1, 1, 1, 1, 1), 'INVALID_FIELD'], // 9-byte expiry
      // expiry 2^63 and 2^64 - 1: valid uint64s that a signed BIGINT column cannot store (they used to crash-loop the ingest)
      [patch(at.expiry, 1, 0x08, 0x80, 0, 0, 0, 0, 0, 0, 0), 'INVALID_FIELD'],
      [patch(at.expiry, 1, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 'INVALID_FIELD'],
      [patch(at.nonce, 2, 0x02, 0x00, 0x07), 'MALFORMED_MESSAGE'], // nonce with a leading zero
      [patch(4, 1, 0x00), 'INVALID_FIELD'], // empty batch
      [patch(4, 1, 0x02), 'MALFORMED_MESSAGE'], // two records announced, one present
      [patch(4, 1, 0x80, 0x80, 0x04), 'MESSAGE_TOO_LARGE'], // 65,536 records
      [Uint8Array.from([...ok, 0]), 'MALFORMED_MESSAGE'], // trailing byte
    ];
    for (const [bytes, code] of cases) assert.throws(() => decodeSignedOrderBatch(bytes), isCode(code), hex(bytes));
  });

  it('enforces the 65,535-record and 1 MiB limits', () => {
    const many = Array.from({ length: MAX_SIGNED_ORDERS_PER_BATCH + 1 }, () => record);
    assert.throws(() => encodeSignedOrderBatch({ marketId: 1, orders: many }), isCode('MESSAGE_TOO_LARGE'));
    // ~100 bytes per record: 11,000 of them do not fit in 1 MiB.
    assert.throws(() => encodeSignedOrderBatch({ marketId: 1, orders: many.slice(0, 11_000) }), isCode('MESSAGE_TOO_LARGE'));
    const fits: SignedOrderBatch = { marketId: 1, orders: many.slice(0, 10_000) };
    assert.equal(decodeSignedOrderBatch(encodeSignedOrderBatch(fits)).orders.length, 10_000);
  });
});
