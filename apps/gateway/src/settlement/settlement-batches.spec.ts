import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SettlementStatus } from '@parallax/contracts';
import { MAX_BATCHES, SettlementBatches } from './settlement-batches.js';

const TX = `0x${'ab'.repeat(32)}` as const;
const status = (batchId: bigint, s: Partial<SettlementStatus> & Pick<SettlementStatus, 'status'>): SettlementStatus => ({ batchId, atMs: 1_000, fillCount: 0, failedFills: [], ...s });

describe('SettlementBatches', () => {
  it('follows a batch from submitted to confirmed, keeping the fields of every step', () => {
    const b = new SettlementBatches();
    b.apply(status(7n, { status: 'submitted', fillCount: 12, txHash: TX, nonce: 3, atMs: 1_000 }));
    b.apply(status(7n, { status: 'mined', fillCount: 12, blockNumber: 44n, gasUsed: 120_000n, gasPerFill: 10_000n, atMs: 1_500 }));
    const last = b.apply(status(7n, { status: 'confirmed', fillCount: 12, atMs: 2_000 }));
    assert.deepEqual(last, {
      batchId: '7', status: 'confirmed', fillCount: 12, txHash: TX, blockNumber: '44', gasUsed: '120000', gasPerFill: '10000', failedFills: 0, createdAt: 1_000, updatedAt: 2_000,
    });
    assert.deepEqual(b.recent(10), [last]);
  });

  it('counts failed fills without ending a batch that is already on chain', () => {
    const b = new SettlementBatches();
    b.apply(status(1n, { status: 'submitted', fillCount: 3, txHash: TX }));
    const after = b.apply(status(1n, { status: 'failed', failedFills: [{ marketId: 1, seq: 9, reason: 'UNFUNDED', detail: '' }] }));
    assert.equal(after?.status, 'submitted');
    assert.equal(after.failedFills, 1);
    assert.equal(after.fillCount, 3);
    assert.equal(b.apply(status(2n, { status: 'failed', failedFills: [{ marketId: 1, seq: 10, reason: 'UNFUNDED', detail: '' }] }))?.status, 'failed');
  });

  it('keeps the newest MAX_BATCHES, newest first, and never revives an evicted batch', () => {
    const b = new SettlementBatches();
    for (let i = 1; i <= MAX_BATCHES + 5; i++) b.apply(status(BigInt(i), { status: 'submitted', fillCount: 1, txHash: TX }));
    assert.equal(b.size, MAX_BATCHES);
    const recent = b.recent(3);
    assert.deepEqual(recent.map((x) => x.batchId), [`${MAX_BATCHES + 5}`, `${MAX_BATCHES + 4}`, `${MAX_BATCHES + 3}`]);
    assert.equal(b.apply(status(3n, { status: 'confirmed' })), undefined);
    assert.equal(b.size, MAX_BATCHES);
    assert.equal(b.recent(MAX_BATCHES).at(-1)?.batchId, '6');
  });
});
