import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DoneReason, encodeEvents, OrderType, StpMode, TimeInForce, type BookEvent } from '@parallax/order-book';
import type { PlaceRequest } from '@parallax/risk';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import { accountEventBatchArb, chainEventBatchArb, riskRequestBatchArb } from '../testing/arbitraries.js';
import { decodeAccountEventBatch, decodeAccountEventBatchEvents, encodeAccountEventBatch } from './account-events.js';
import { decodeChainEventBatch, decodeRiskRequestBatch, encodeChainEventBatch, encodeRiskRequestBatch } from './risk-inputs.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;
const A = `0x${'11'.repeat(20)}` as const;
const K = `0x${'22'.repeat(20)}` as const;
const T1 = `0x${'b1'.repeat(20)}` as const;
const T2 = `0x${'c2'.repeat(20)}` as const;

const place: PlaceRequest = {
  type: 'place',
  ts: 5,
  account: A,
  signer: A,
  marketId: 3,
  orderType: OrderType.Limit,
  tif: TimeInForce.GTC,
  expiresAt: 0,
  postOnly: true,
  stp: StpMode.CancelOldest,
  order: { trader: A, baseToken: T1, quoteToken: T2, isBuy: true, price: 256n, size: 1n, maxFeeRate: 300, expiry: 0n, nonce: 7n, signature: `0x${'aa'.repeat(65)}` },
};

describe('risk request / chain event batch contracts', () => {
  it('round-trip any batch deterministically', () => {
    fc.assert(
      fc.property(riskRequestBatchArb, (b) => {
        const bytes = encodeRiskRequestBatch(b);
        assert.deepEqual(decodeRiskRequestBatch(bytes), b);
        assert.deepEqual(encodeRiskRequestBatch(b), bytes);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(chainEventBatchArb, (b) => {
        const bytes = encodeChainEventBatch(b);
        assert.deepEqual(decodeChainEventBatch(bytes), b);
        assert.deepEqual(encodeChainEventBatch(b), bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('has a pinned wire format (type 7; trader implied by the account; signer flag)', () => {
    const bytes = encodeRiskRequestBatch({ sentAtMs: 9, requests: [place, { type: 'cancel', ts: 6, account: A, signer: K, orderId: 300 }] });
    // flags: limit 0 | GTC 0 | postOnly 0x08 | stp 2 << 4 | isBuy 0x80 = 0xa8
    const want = ['500701', '09', '02', '01', '05', '11'.repeat(20), '00', '03', 'a8', '00', 'b1'.repeat(20), 'c2'.repeat(20), '020100', '0101', 'ac02', '00', '0107', 'aa'.repeat(65)];
    want.push('02', '06', '11'.repeat(20), '01', '22'.repeat(20), 'ac02');
    assert.equal(hex(bytes), want.join(''));
  });

  it('refuses to encode an order signed for someone else, or a record of the other topic', () => {
    assert.throws(() => encodeRiskRequestBatch({ sentAtMs: 0, requests: [{ ...place, order: { ...place.order, trader: K } }] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeRiskRequestBatch({ sentAtMs: 0, requests: [{ type: 'deposit', account: A, token: T1, amount: 1n } as unknown as PlaceRequest] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeChainEventBatch({ sentAtMs: 0, events: [place as never] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeRiskRequestBatch({ sentAtMs: 0, requests: [] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeRiskRequestBatch({ sentAtMs: 0, requests: [{ ...place, order: { ...place.order, maxFeeRate: 100_001 } }] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: A, token: T1, amount: -1n }] }), isCode('INVALID_FIELD'));
  });

  it('refuses a chain event smuggled into the requests topic, and a non-canonical signer', () => {
    const chain = encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: A, token: T1, amount: 5n }] });
    const smuggled = Uint8Array.from(chain);
    smuggled[1] = 7; // claims to be a request batch
    smuggled[2] = 1; // of the version request batches have
    assert.throws(() => decodeRiskRequestBatch(smuggled), isCode('INVALID_FIELD'));
    const cancel = encodeRiskRequestBatch({ sentAtMs: 0, requests: [{ type: 'cancel', ts: 1, account: A, signer: K, orderId: 1 }] });
    const same = Uint8Array.from(cancel);
    same.set(Buffer.from('11'.repeat(20), 'hex'), 3 + 1 + 1 + 1 + 1 + 20 + 1);
    assert.throws(() => decodeRiskRequestBatch(same), isCode('MALFORMED_MESSAGE'));
  });
});

describe('a place request with a client order id', () => {
  it('round-trips it (signer byte bit 1, the id after the signature), with the wallet or a trading key signing', () => {
    for (const signer of [A, K]) {
      const r: PlaceRequest = { ...place, signer, clientOrderId: 'mm-1' };
      const bytes = encodeRiskRequestBatch({ sentAtMs: 9, requests: [r, { ...place, signer }] });
      assert.deepEqual(decodeRiskRequestBatch(bytes).requests, [r, { ...place, signer }]);
      const plain = encodeRiskRequestBatch({ sentAtMs: 9, requests: [{ ...place, signer }] });
      const one = encodeRiskRequestBatch({ sentAtMs: 9, requests: [r] });
      assert.equal(hex(one.subarray(plain.length)), `04${Buffer.from('mm-1').toString('hex')}`);
    }
  });

  it('refuses a bad id, and the flag on a cancel', () => {
    for (const bad of ['', 'x'.repeat(37), 'a/b']) {
      assert.throws(() => encodeRiskRequestBatch({ sentAtMs: 0, requests: [{ ...place, clientOrderId: bad }] }), isCode('INVALID_FIELD'), bad);
    }
    const cancel = Uint8Array.from(encodeRiskRequestBatch({ sentAtMs: 0, requests: [{ type: 'cancel', ts: 1, account: A, signer: A, orderId: 1 }] }));
    const signerAt = 3 + 1 + 1 + 1 + 1 + 20;
    assert.equal(cancel[signerAt], 0);
    cancel[signerAt] = 2;
    assert.throws(() => decodeRiskRequestBatch(cancel), isCode('MALFORMED_MESSAGE'));
  });
});

describe('chain event batch version 2 (the watcher\'s nonce-floor and order-cancel kinds)', () => {
  const H = `0x${'ab'.repeat(32)}` as const;

  it('pins the new records and writes version 2', () => {
    const bytes = encodeChainEventBatch({
      sentAtMs: 1,
      events: [
        { type: 'nonceFloorRaised', ts: 2, account: A, floor: 300n },
        { type: 'orderCancelled', ts: 3, account: A, orderHash: H },
      ],
    });
    const want = ['500902', '01', '02', '0b', '02', '11'.repeat(20), '02012c', '0c', '03', '11'.repeat(20), 'ab'.repeat(32)];
    assert.equal(hex(bytes), want.join(''));
    assert.deepEqual(decodeChainEventBatch(bytes).events, [
      { type: 'nonceFloorRaised', ts: 2, account: A, floor: 300n },
      { type: 'orderCancelled', ts: 3, account: A, orderHash: H },
    ]);
  });

  it('still reads version 1 frames, and refuses the new tags in them', () => {
    const v2 = encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: A, token: T1, amount: 5n }] });
    const v1 = Uint8Array.from(v2);
    v1[2] = 1;
    assert.deepEqual(decodeChainEventBatch(v1).events, [{ type: 'deposit', account: A, token: T1, amount: 5n }]);
    const floor = Uint8Array.from(encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'nonceFloorRaised', ts: 0, account: A, floor: 1n }] }));
    floor[2] = 1;
    assert.throws(() => decodeChainEventBatch(floor), isCode('INVALID_FIELD'));
    const skipped = Uint8Array.from(encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'settlementSkipped', account: A, token: T1, received: 1n, paid: 2n, fees: 0n }] }));
    assert.deepEqual(decodeChainEventBatch(skipped).events, [{ type: 'settlementSkipped', account: A, token: T1, received: 1n, paid: 2n, fees: 0n }]);
    skipped[2] = 1;
    assert.throws(() => decodeChainEventBatch(skipped), isCode('INVALID_FIELD'));
    const tag14 = Uint8Array.from(encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'orderCancelled', ts: 0, account: A, orderHash: H }] }));
    tag14[5] = 14;
    assert.throws(() => decodeChainEventBatch(tag14), isCode('INVALID_FIELD'));
    assert.throws(() => encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'orderCancelled', ts: 0, account: A, orderHash: `0x${'ab'.repeat(31)}` }] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'nonceFloorRaised', ts: 0, account: A, floor: 1n << 64n }] }), isCode('INVALID_FIELD'));
  });
});

describe('account event batch contract', () => {
  it('round-trips and checks its events are ordered', () => {
    fc.assert(
      fc.property(accountEventBatchArb, (b) => {
        const bytes = encodeAccountEventBatch(b);
        assert.deepEqual(decodeAccountEventBatch(bytes), b);
      }),
      { numRuns: 200 },
    );
    const done = (seq: number): BookEvent => ({ type: 'done', seq, ts: 1, orderId: 4, accountId: 9, reason: DoneReason.CANCELLED, remaining: 3 });
    const ok = decodeAccountEventBatch(encodeAccountEventBatch({ marketId: 1, inputPartition: 0, inputOffset: 7, sentAtMs: 0, events: encodeEvents([done(3), done(9)]) }));
    assert.deepEqual(decodeAccountEventBatchEvents(ok).map((e) => e.seq), [3, 9]);
    const unordered = decodeAccountEventBatch(encodeAccountEventBatch({ marketId: 1, inputPartition: 0, inputOffset: 7, sentAtMs: 0, events: encodeEvents([done(9), done(9)]) }));
    assert.throws(() => decodeAccountEventBatchEvents(unordered), isCode('INVALID_FIELD'));
    const garbage = decodeAccountEventBatch(encodeAccountEventBatch({ marketId: 1, inputPartition: 0, inputOffset: 7, sentAtMs: 0, events: Uint8Array.from([0xff, 0xff]) }));
    assert.throws(() => decodeAccountEventBatchEvents(garbage), isCode('MALFORMED_MESSAGE'));
  });
});
