import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DeadLetter } from './dead-letters.js';
import { decodeDeadLetter, encodeDeadLetter, MAX_DEAD_LETTER_DETAIL_CHARS, MAX_DEAD_LETTER_KEY_CHARS, MAX_DEAD_LETTER_VALUE_BYTES } from './dead-letters.js';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import { deadLetterArb } from '../testing/arbitraries.js';
import { deadLetterKey } from '../catalogue/topics.js';

const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;

const base: DeadLetter = {
  reason: 'UNKNOWN_MARKET',
  detail: 'market 99 is not in the catalogue',
  topic: 'parallax.orders.v1',
  partition: 3,
  offset: 1234,
  key: '99',
  value: Uint8Array.from([0x50, 1, 1, 99]),
};

describe('dead letter contract', () => {
  it('round-trips any dead letter within limits (null and empty keys kept apart)', () => {
    fc.assert(
      fc.property(deadLetterArb, (d) => {
        const bytes = encodeDeadLetter(d);
        assert.deepEqual(decodeDeadLetter(bytes), d);
        assert.deepEqual(encodeDeadLetter(d), bytes);
      }),
      { numRuns: 300 },
    );
    assert.equal(decodeDeadLetter(encodeDeadLetter({ ...base, key: null })).key, null);
    assert.equal(decodeDeadLetter(encodeDeadLetter({ ...base, key: '' })).key, '');
  });

  it('truncates oversized originals instead of failing, without splitting a surrogate pair', () => {
    const value = new Uint8Array(MAX_DEAD_LETTER_VALUE_BYTES + 10).map((_, i) => i & 0xff);
    const detail = 'x'.repeat(MAX_DEAD_LETTER_DETAIL_CHARS - 1) + '😀tail';
    const key = 'k'.repeat(MAX_DEAD_LETTER_KEY_CHARS * 2);
    const d = decodeDeadLetter(encodeDeadLetter({ ...base, value, detail, key }));
    assert.deepEqual(d.value, value.subarray(0, MAX_DEAD_LETTER_VALUE_BYTES));
    assert.equal(d.detail, 'x'.repeat(MAX_DEAD_LETTER_DETAIL_CHARS - 1));
    assert.equal(d.key, 'k'.repeat(MAX_DEAD_LETTER_KEY_CHARS));
  });

  it('validates reason codes and topic names', () => {
    for (const patch of [{ reason: 'engine error' }, { reason: '' }, { reason: 'A'.repeat(65) }, { topic: 'bad topic' }, { topic: '' }, { partition: -1 }, { value: 'abc' }, { key: 5 }]) {
      assert.throws(() => encodeDeadLetter({ ...base, ...patch } as DeadLetter), isCode('INVALID_FIELD'), JSON.stringify(patch));
    }
  });

  it('refuses a bad key presence byte and oversized fields on decode', () => {
    const bytes = encodeDeadLetter({ ...base, key: null, value: new Uint8Array(0) });
    const presence = bytes.length - 2; // ... key presence byte, value length 0
    const mutated = Uint8Array.from(bytes);
    mutated[presence] = 2;
    assert.throws(() => decodeDeadLetter(mutated), isCode('MALFORMED_MESSAGE'));
    // value length 65537 announced
    const big = Uint8Array.from([...bytes.subarray(0, bytes.length - 1), 0x81, 0x80, 0x04]);
    assert.throws(() => decodeDeadLetter(big), isCode('INVALID_FIELD'));
  });

  it('keys dead letters by source topic and partition', () => {
    assert.equal(deadLetterKey('parallax.orders.v1', 3), 'parallax.orders.v1/3');
  });
});
