import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractError, type ContractErrorCode } from '../errors.js';
import { decodeRiskResultBatch, encodeRiskResultBatch, MAX_RESULT_MESSAGE_CHARS, type RiskResult, type RiskResultBatch } from './risk-results.js';

const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;
const A = `0x${'11'.repeat(20)}` as const;

const accepted: RiskResult = { kind: 'place', account: A, nonce: 7n, marketId: 3, orderId: 41, accountId: 9, code: null, message: '' };
const refused: RiskResult = { kind: 'place', account: A, nonce: 8n, marketId: 3, orderId: 0, accountId: 0, code: 'INSUFFICIENT_FUNDS', message: 'the order can cost 5' };
const cancel: RiskResult = { kind: 'cancel', account: A, orderId: 41, code: 'CANCEL_PENDING', message: 'already' };

const addressArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b): `0x${string}` => `0x${Buffer.from(b).toString('hex')}`);
const codeArb = fc.option(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,39}$/), { nil: null });
const resultArb: fc.Arbitrary<RiskResult> = fc.oneof(
  fc.record({ account: addressArb, nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), marketId: fc.nat(), id: fc.integer({ min: 1, max: 2 ** 40 }), accountId: fc.integer({ min: 1, max: 2 ** 40 }), code: codeArb, message: fc.string({ maxLength: 40 }) }).map(
    (r): RiskResult =>
      r.code === null
        ? { kind: 'place', account: r.account, nonce: r.nonce, marketId: r.marketId, orderId: r.id, accountId: r.accountId, code: null, message: '' }
        : { kind: 'place', account: r.account, nonce: r.nonce, marketId: r.marketId, orderId: 0, accountId: 0, code: r.code, message: r.message },
  ),
  fc.record({ account: addressArb, id: fc.integer({ min: 1, max: 2 ** 40 }), code: codeArb, message: fc.string({ maxLength: 40 }) }).map(
    (r): RiskResult => ({ kind: 'cancel', account: r.account, orderId: r.id, code: r.code, message: r.code === null ? '' : r.message }),
  ),
);

describe('risk results contract', () => {
  it('round-trips accepted places, refusals and cancels', () => {
    const b: RiskResultBatch = { shard: 2, results: [accepted, refused, cancel] };
    assert.deepEqual(decodeRiskResultBatch(encodeRiskResultBatch(b)), b);
  });

  it('round-trips any batch (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.array(resultArb, { minLength: 1, maxLength: 20 }), (shard, results) => {
        const b = { shard, results };
        assert.deepEqual(decodeRiskResultBatch(encodeRiskResultBatch(b)), b);
      }),
    );
  });

  it('truncates long messages and refuses codes that are not stable codes', () => {
    const long = { ...refused, message: 'x'.repeat(10_000) };
    const back = decodeRiskResultBatch(encodeRiskResultBatch({ shard: 0, results: [long] }));
    assert.equal(back.results[0]!.message.length, MAX_RESULT_MESSAGE_CHARS);
    assert.throws(() => encodeRiskResultBatch({ shard: 0, results: [{ ...refused, code: 'not a code' }] }), isCode('INVALID_FIELD'));
    assert.throws(() => encodeRiskResultBatch({ shard: 0, results: [] }), isCode('INVALID_FIELD'));
  });

  it('refuses truncated, padded and garbage input with a ContractError only', () => {
    const bytes = encodeRiskResultBatch({ shard: 1, results: [accepted, refused] });
    for (let n = 0; n < bytes.length; n++) assert.throws(() => decodeRiskResultBatch(bytes.subarray(0, n)), (e: unknown) => e instanceof ContractError);
    assert.throws(() => decodeRiskResultBatch(new Uint8Array([...bytes, 0])), isCode('MALFORMED_MESSAGE'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeRiskResultBatch(Uint8Array.from([bytes[0]!, bytes[1]!, bytes[2]!, ...junk]));
        } catch (e) {
          assert.ok(e instanceof ContractError);
        }
      }),
    );
  });
});
