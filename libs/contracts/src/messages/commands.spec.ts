import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Command, PlaceOrder } from '@parallax/order-book';
import { OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import type { CommandBatch } from './commands.js';
import { decodeCommandBatch, encodeCommandBatch, MAX_COMMANDS_PER_BATCH } from './commands.js';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import { commandBatchArb } from '../testing/arbitraries.js';
import { MAX_MESSAGE_BYTES } from '../wire.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;

const place: PlaceOrder = {
  type: 'place',
  ts: 5,
  orderId: 1,
  accountId: 2,
  side: Side.Sell,
  orderType: OrderType.Limit,
  price: 300,
  size: 4,
  tif: TimeInForce.GTT,
  expiresAt: 10,
  postOnly: true,
  stp: StpMode.CancelNewest,
};

describe('command batch contract', () => {
  it('round-trips every command type, any field values and ts order', () => {
    fc.assert(
      fc.property(commandBatchArb, (b) => {
        const bytes = encodeCommandBatch(b);
        assert.deepEqual(decodeCommandBatch(bytes), b);
        // Deterministic: same batch, same bytes (the shared writer leaks nothing between calls).
        assert.deepEqual(encodeCommandBatch(b), bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('has a pinned wire format (magic, type 1, version 1, ts deltas, packed flags)', () => {
    const batch: CommandBatch = {
      marketId: 7,
      sentAtMs: 1000,
      commands: [place, { type: 'cancel', ts: 3, orderId: 1, accountId: 2 }, { type: 'expire', ts: 3 }],
    };
    const bytes = encodeCommandBatch(batch);
    // 50 01 01 | market 07 | sentAt e807 | count 03
    // place:  tag 11 (place | expiry bit) dTs 05 id 01 acct 02 flags 3d (sell, limit, GTT, postOnly, stp 1) price ac02 size 04 exp 0a
    // cancel: tag 0a (cancel | ts-back bit) |dTs| 02 id 01 acct 02
    // expire: tag 05 dTs 00
    assert.equal(hex(bytes), ['500101', '07', 'e807', '03', '1105010' + '23dac02040a', '0a020102', '0500'].join(''));
    assert.deepEqual(decodeCommandBatch(bytes), batch);
  });

  it('keeps a typical place order at about 12 bytes', () => {
    const commands: Command[] = [];
    for (let i = 0; i < 100; i++) {
      commands.push({ ...place, ts: 1_700_000_000_000 + i, orderId: 50_000 + i, accountId: 700 + (i % 50), price: 100_000 + (i % 40), size: 1 + (i % 90), tif: TimeInForce.GTC, expiresAt: 0 });
    }
    const bytes = encodeCommandBatch({ marketId: 3, sentAtMs: 1_700_000_000_000, commands });
    assert.ok(bytes.length / 100 <= 13, `${bytes.length / 100} bytes per place`);
  });

  it('refuses commands it cannot represent faithfully (INVALID_FIELD)', () => {
    const bad: [string, unknown][] = [
      ['ts', -1],
      ['ts', 1.5],
      ['ts', Number.MAX_SAFE_INTEGER + 1],
      ['orderId', NaN],
      ['accountId', -3],
      ['price', Infinity],
      ['size', '4'],
      ['expiresAt', -1],
      ['side', 2],
      ['orderType', 5],
      ['tif', 4],
      ['stp', 5],
      ['stp', 1.5],
      ['postOnly', 1],
    ];
    for (const [field, value] of bad) {
      const cmd = { ...place, [field]: value } as unknown as Command;
      assert.throws(() => encodeCommandBatch({ marketId: 1, sentAtMs: 0, commands: [cmd] }), isCode('INVALID_FIELD'), `${field}=${String(value)}`);
    }
    const unknown = { type: 'modify', ts: 1 } as unknown as Command;
    assert.throws(() => encodeCommandBatch({ marketId: 1, sentAtMs: 0, commands: [unknown] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeCommandBatch({ marketId: -1, sentAtMs: 0, commands: [place] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeCommandBatch({ marketId: 1, sentAtMs: 0.5, commands: [place] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeCommandBatch({ marketId: 1, sentAtMs: 0, commands: [] }), isCode('INVALID_FIELD'));
    // A failed encode leaves nothing behind in the shared writer.
    const ok: CommandBatch = { marketId: 1, sentAtMs: 2, commands: [place] };
    assert.deepEqual(decodeCommandBatch(encodeCommandBatch(ok)), ok);
  });

  it('enforces the 65,535-command and 1 MiB limits', () => {
    const expire = (ts: number): Command => ({ type: 'expire', ts });
    const max = Array.from({ length: MAX_COMMANDS_PER_BATCH }, (_, i) => expire(i));
    const bytes = encodeCommandBatch({ marketId: 1, sentAtMs: 0, commands: max });
    assert.equal(decodeCommandBatch(bytes).commands.length, MAX_COMMANDS_PER_BATCH);
    assert.throws(() => encodeCommandBatch({ marketId: 1, sentAtMs: 0, commands: [...max, expire(1)] }), isCode('MESSAGE_TOO_LARGE'));

    const big: PlaceOrder = { ...place, orderId: Number.MAX_SAFE_INTEGER, accountId: Number.MAX_SAFE_INTEGER, price: Number.MAX_SAFE_INTEGER, size: Number.MAX_SAFE_INTEGER, expiresAt: Number.MAX_SAFE_INTEGER };
    const huge = Array.from({ length: 40_000 }, () => big);
    assert.throws(() => encodeCommandBatch({ marketId: 1, sentAtMs: 0, commands: huge }), isCode('MESSAGE_TOO_LARGE'));

    // Decoder: a count above the limit, and input above 1 MiB, are refused before any work.
    const overCount = Uint8Array.from([0x50, 1, 1, 1, 0, 0x80, 0x80, 0x04, 5, 0]);
    assert.throws(() => decodeCommandBatch(overCount), isCode('MESSAGE_TOO_LARGE'));
    const tooBig = new Uint8Array(MAX_MESSAGE_BYTES + 1);
    tooBig.set([0x50, 1, 1]);
    assert.throws(() => decodeCommandBatch(tooBig), isCode('MESSAGE_TOO_LARGE'));
  });

  it('refuses non-canonical and out-of-range encodings', () => {
    const header = [0x50, 1, 1, 1, 0, 1];
    const cases: [number[], ContractErrorCode][] = [
      [[...header, 0x05, 0x80, 0x00], 'MALFORMED_MESSAGE'], // varint 0 in two bytes
      [[...header, 0x0d, 0x00], 'MALFORMED_MESSAGE'], // step back by zero
      [[...header, 0x0d, 0x01], 'INVALID_FIELD'], // ts below 0
      [[...header, 0x15, 0x01], 'MALFORMED_MESSAGE'], // expiry bit on expire
      [[...header, 0x25, 0x01], 'MALFORMED_MESSAGE'], // reserved tag bit
      [[...header, 0x06, 0x01], 'INVALID_FIELD'], // command type 6
      [[...header, 0x00, 0x01], 'INVALID_FIELD'], // command type 0
      [[...header, 0x01, 0x01, 0x01, 0x01, 0xa0, 0x01, 0x01], 'INVALID_FIELD'], // stp 5
      [[...header, 0x11, 0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00], 'MALFORMED_MESSAGE'], // expiry bit with expiresAt 0
      [[...header, 0x05, 0x01, 0x00], 'MALFORMED_MESSAGE'], // trailing byte
      [[0x50, 1, 1, 1, 0, 0], 'INVALID_FIELD'], // empty batch
      [[...header, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'MALFORMED_MESSAGE'], // > 2^53
      [[...header, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'MALFORMED_MESSAGE'], // 9-byte varint
    ];
    for (const [bytes, code] of cases) {
      assert.throws(() => decodeCommandBatch(Uint8Array.from(bytes)), isCode(code), hex(Uint8Array.from(bytes)));
    }
    // ts sum overflowing the safe range: MAX_SAFE then +1.
    const maxSafe = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    const two = [0x50, 1, 1, 1, 0, 2, 0x05, ...maxSafe, 0x05, 0x01];
    assert.throws(() => decodeCommandBatch(Uint8Array.from(two)), isCode('INVALID_FIELD'));
    assert.equal(decodeCommandBatch(Uint8Array.from([0x50, 1, 1, 1, 0, 1, 0x05, ...maxSafe])).commands[0]?.ts, Number.MAX_SAFE_INTEGER);
  });

  it('decodes from a Buffer and returns plain values detached from it', () => {
    const b: CommandBatch = { marketId: 9, sentAtMs: 1, commands: [place] };
    const buf = Buffer.from(encodeCommandBatch(b));
    const out = decodeCommandBatch(buf);
    buf.fill(0);
    assert.deepEqual(out, b);
  });
});
