// A recovery pool worker: recovers the signers of a batch of parsed signatures (see recovery-pool.ts).
import { parentPort } from 'node:worker_threads';
import { recoverParsed } from '../signing/signature-verifier.js';

export interface RecoveryJob {
  readonly id: number;
  /** n x 32-byte digests, n x 64-byte r||s, n recovery ids. */
  readonly digests: Uint8Array;
  readonly rs: Uint8Array;
  readonly recids: Uint8Array;
}

export interface RecoveryAnswer {
  readonly id: number;
  /** One per signature: the lower-case address, or null when it does not recover. */
  readonly signers: (string | null)[];
}

parentPort!.on('message', (job: RecoveryJob) => {
  const signers: (string | null)[] = [];
  for (let i = 0; i < job.recids.length; i++) {
    signers.push(recoverParsed(job.rs.subarray(i * 64, i * 64 + 64), job.recids[i]!, job.digests.subarray(i * 32, i * 32 + 32)) ?? null);
  }
  parentPort!.postMessage({ id: job.id, signers } satisfies RecoveryAnswer);
});
