// The recent on-chain settlement batches as the settlement service reports them on the settlement-status topic
// (one partition, totally ordered): each status message moves one batch forward (submitted -> mined ->
// confirmed, or dropped; failed names fills its preparation refused) and carries the fields of that step.
// Pure and bounded: the consumer feeds it, REST and the WebSocket read it.
import type { SettlementStatus, SettlementStatusKind } from '@parallax/contracts';
import type { SettlementBatchInfo } from '@parallax/sdk';

/** Batches kept (the newest by batch id). */
export const MAX_BATCHES = 500;

/** A batch as the API shows it (the SDK's type): amounts as decimal strings (uint64 does not fit a JSON number). */
export type BatchView = SettlementBatchInfo;

interface BatchRecord {
  batchId: bigint;
  status: SettlementStatusKind;
  fillCount: number;
  txHash: string | null;
  blockNumber: bigint | null;
  gasUsed: bigint | null;
  gasPerFill: bigint | null;
  failedFills: number;
  createdAt: number;
  updatedAt: number;
}

const view = (b: BatchRecord): BatchView => ({
  batchId: b.batchId.toString(),
  status: b.status,
  fillCount: b.fillCount,
  txHash: b.txHash,
  blockNumber: b.blockNumber?.toString() ?? null,
  gasUsed: b.gasUsed?.toString() ?? null,
  gasPerFill: b.gasPerFill?.toString() ?? null,
  failedFills: b.failedFills,
  createdAt: b.createdAt,
  updatedAt: b.updatedAt,
});

export class SettlementBatches {
  private readonly batches = new Map<bigint, BatchRecord>();
  /** Highest batch id evicted: a late status of an evicted batch must not bring it back as new. */
  private evictedUpTo = -1n;

  /** Applies one status in topic order; returns the batch after it, or undefined if it is too old to keep. */
  apply(s: SettlementStatus): BatchView | undefined {
    if (s.batchId <= this.evictedUpTo) return undefined;
    let b = this.batches.get(s.batchId);
    if (b === undefined) {
      b = { batchId: s.batchId, status: s.status, fillCount: s.fillCount, txHash: null, blockNumber: null, gasUsed: null, gasPerFill: null, failedFills: 0, createdAt: s.atMs, updatedAt: s.atMs };
      this.batches.set(s.batchId, b);
      this.evict();
    }
    // A `failed` report names fills the batch's preparation refused: it does not end a batch already on chain.
    if (s.status !== 'failed' || b.txHash === null) b.status = s.status;
    if (s.fillCount > 0) b.fillCount = s.fillCount;
    if (s.txHash !== undefined) b.txHash = s.txHash;
    if (s.blockNumber !== undefined) b.blockNumber = s.blockNumber;
    if (s.gasUsed !== undefined) b.gasUsed = s.gasUsed;
    if (s.gasPerFill !== undefined) b.gasPerFill = s.gasPerFill;
    b.failedFills += s.failedFills.length;
    b.updatedAt = Math.max(b.updatedAt, s.atMs);
    return view(b);
  }

  private evict(): void {
    if (this.batches.size <= MAX_BATCHES) return;
    const ids = [...this.batches.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const id of ids.slice(0, this.batches.size - MAX_BATCHES)) {
      this.batches.delete(id);
      if (id > this.evictedUpTo) this.evictedUpTo = id;
    }
  }

  /** The newest `limit` batches, newest (highest batch id) first. */
  recent(limit: number): BatchView[] {
    const all = [...this.batches.values()].sort((a, b) => (a.batchId > b.batchId ? -1 : a.batchId < b.batchId ? 1 : 0));
    return all.slice(0, limit).map(view);
  }

  get size(): number {
    return this.batches.size;
  }
}
