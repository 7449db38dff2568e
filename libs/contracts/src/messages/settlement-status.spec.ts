import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractError } from '../errors.js';
import type { ContractErrorCode } from '../errors.js';
import type { SettlementStatus } from './settlement-status.js';
import { decodeSettlementStatus, encodeSettlementStatus, MAX_FAILED_FILL_DETAIL_CHARS, SETTLEMENT_STATUSES } from './settlement-status.js';
import { settlementStatusArb } from '../testing/arbitraries.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isCode = (code: ContractErrorCode) => (e: unknown) => e instanceof ContractError && e.code === code;

const mined: SettlementStatus = {
  batchId: 1234n,
  status: 'mined',
  atMs: 1_700_000_000_000,
  fillCount: 500,
  txHash: `0x${'ab'.repeat(32)}`,
  nonce: 4321,
  blockNumber: 19_000_000n,
  gasUsed: 13_100_000n,
  gasPerFill: 26_200n,
  failedFills: [],
};

describe('settlement status contract', () => {
  it('round-trips any status; absent optional fields stay absent', () => {
    fc.assert(
      fc.property(settlementStatusArb, (s) => {
        const bytes = encodeSettlementStatus(s);
        const out = decodeSettlementStatus(bytes);
        assert.deepEqual(out, s);
        assert.deepEqual(Object.keys(out).sort(), Object.keys(s).sort());
        assert.deepEqual(encodeSettlementStatus(s), bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('has a pinned wire format (type 6, status and presence bits in one byte)', () => {
    const s: SettlementStatus = {
      batchId: 0x0102n,
      status: 'failed',
      atMs: 1000,
      fillCount: 2,
      nonce: 5,
      failedFills: [{ marketId: 7, seq: 300, reason: 'OrderExpired', detail: 'x' }],
    };
    // 50 06 01 | batchId 02 0102 | flags 13 (failed=3 | nonce bit) | atMs e807 | fillCount 02 | nonce 05 |
    // 1 failed fill: market 07, seq ac02, reason 0c "OrderExpired", detail 01 "x"
    const bytes = encodeSettlementStatus(s);
    assert.equal(hex(bytes), ['500601', '020102', '13', 'e807', '02', '05', '01', '07', 'ac02', '0c' + Buffer.from('OrderExpired').toString('hex'), '0178'].join(''));
    assert.deepEqual(decodeSettlementStatus(bytes), s);
  });

  it('keeps a fully populated mined event under 64 bytes', () => {
    const bytes = encodeSettlementStatus(mined);
    assert.ok(bytes.length <= 64, `${bytes.length} bytes`);
    assert.deepEqual(decodeSettlementStatus(bytes), mined);
  });

  it('encodes every status', () => {
    for (const status of SETTLEMENT_STATUSES) assert.equal(decodeSettlementStatus(encodeSettlementStatus({ ...mined, status })).status, status);
  });

  it('truncates long details instead of failing, without splitting a surrogate pair', () => {
    const detail = 'd'.repeat(MAX_FAILED_FILL_DETAIL_CHARS - 1) + '😀more';
    const s = decodeSettlementStatus(encodeSettlementStatus({ ...mined, status: 'failed', failedFills: [{ marketId: 1, seq: 1, reason: 'FillUnderfunded', detail }] }));
    assert.equal(s.failedFills[0]!.detail, 'd'.repeat(MAX_FAILED_FILL_DETAIL_CHARS - 1));
  });

  it('validates fields (INVALID_FIELD)', () => {
    const fill = { marketId: 1, seq: 2, reason: 'PRICE_LIMIT_EXCEEDED', detail: '' };
    const bad: Record<string, unknown>[] = [
      { status: 'pending' },
      { status: 'toString' },
      { batchId: -1n },
      { batchId: 1n << 64n },
      { batchId: 5 },
      { atMs: -1 },
      { fillCount: 1.5 },
      { txHash: `0x${'ab'.repeat(31)}` },
      { nonce: -1 },
      { blockNumber: 1n << 64n },
      { gasUsed: 1 },
      { gasPerFill: -1n },
      { failedFills: [{ ...fill, reason: 'price limit' }] },
      { failedFills: [{ ...fill, reason: '' }] },
      { failedFills: [{ ...fill, reason: 'R'.repeat(65) }] },
      { failedFills: [{ ...fill, reason: '_X' }] },
      { failedFills: [{ ...fill, seq: -1 }] },
      { failedFills: [{ ...fill, detail: 5 }] },
      { failedFills: 'none' },
    ];
    for (const patch of bad) {
      assert.throws(() => encodeSettlementStatus({ ...mined, ...patch }), isCode('INVALID_FIELD'), String(Object.keys(patch)));
    }
    assert.equal(decodeSettlementStatus(encodeSettlementStatus({ ...mined, failedFills: [{ ...fill, reason: 'R'.repeat(64) }] })).failedFills.length, 1);
  });

  it('refuses unknown statuses and non-canonical numbers on decode', () => {
    const ok = Array.from(encodeSettlementStatus({ batchId: 1n, status: 'submitted', atMs: 0, fillCount: 1, failedFills: [] }));
    assert.deepEqual(ok, [0x50, 6, 1, 1, 1, 0, 0, 1, 0]);
    const cases: [number[], ContractErrorCode][] = [
      [[0x50, 6, 1, 1, 1, 5, 0, 1, 0], 'INVALID_FIELD'], // status 5
      [[0x50, 6, 1, 1, 1, 7, 0, 1, 0], 'INVALID_FIELD'], // status 7
      [[0x50, 6, 1, 2, 0, 1, 0, 0, 1, 0], 'MALFORMED_MESSAGE'], // batchId with a leading zero
      [[0x50, 6, 1, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0], 'INVALID_FIELD'], // 9-byte batchId
      [[0x50, 6, 1, 1, 1, 0x20, 0, 1, 2, 0, 1, 0], 'MALFORMED_MESSAGE'], // blockNumber with a leading zero
      [[0x50, 6, 1, 1, 1, 0x08, 0, 1, 0], 'MALFORMED_MESSAGE'], // txHash announced, missing
      [[0x50, 6, 1, 1, 1, 0, 0, 1, 1], 'MALFORMED_MESSAGE'], // one failed fill announced, none present
      [[0x50, 6, 1, 1, 1, 0, 0, 1, 0x80, 0x80, 0x04], 'MESSAGE_TOO_LARGE'], // 65,536 failed fills
      [[0x50, 6, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0x20, 0], 'INVALID_FIELD'], // reason " "
      [[...ok, 0], 'MALFORMED_MESSAGE'], // trailing byte
    ];
    for (const [bytes, code] of cases) assert.throws(() => decodeSettlementStatus(Uint8Array.from(bytes)), isCode(code), hex(Uint8Array.from(bytes)));
  });
});
