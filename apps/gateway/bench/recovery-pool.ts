// Measured, not adopted (docs/benchmarks.md, "Trading API"): on the 2-core machines it costs more CPU in all
// than recovering in the event loop, and recovery is a small part of the request path; it stays with the
// benchmark that measures it, ready to be wired into OrdersService where cores are to spare.
//
// Signature recovery off the event loop: a pool of worker threads, each taking a batch of signatures per
// message (one postMessage amortised over up to `batch` recoveries). Signatures arriving in one turn of the
// event loop go out together (a batch leaves on the next turn, or at once when full), spread over the workers
// with the fewest batches in flight. A load too small to batch is recovered in this thread (`syncBelow`): a
// worker round trip costs more than a single recovery.
import { Worker } from 'node:worker_threads';
import type { Address, Hex } from 'viem';
import { hexToBytes } from 'viem';
import { ApiError } from '../errors/api.errors.js';
import type { RecoveryAnswer, RecoveryJob } from './recovery.worker.js';
import { parseSignatureForRecovery, recoverParsed } from '../signing/signature-verifier.js';

export interface RecoveryPoolOptions {
  /** Worker threads. */
  readonly workers: number;
  /** Largest batch per message. */
  readonly batch?: number;
  /** With fewer signatures waiting than this and no batch in flight, recover in this thread. */
  readonly syncBelow?: number;
}

interface Waiting {
  readonly rs: Uint8Array;
  readonly recid: number;
  readonly digest: Uint8Array;
  resolve(a: Address): void;
  reject(e: Error): void;
}

const notRecovered = (): ApiError => new ApiError('INVALID_SIGNATURE', 'the signature does not recover to a public key');

export class RecoveryPool {
  private readonly workers: { worker: Worker; inFlight: number }[] = [];
  private readonly jobs = new Map<number, Waiting[]>();
  private queue: Waiting[] = [];
  private nextId = 1;
  private scheduled = false;
  private readonly batch: number;
  private readonly syncBelow: number;

  constructor(options: RecoveryPoolOptions) {
    this.batch = options.batch ?? 64;
    this.syncBelow = options.syncBelow ?? 2;
    for (let i = 0; i < options.workers; i++) {
      const worker = new Worker(new URL('./recovery.worker.js', import.meta.url));
      const slot = { worker, inFlight: 0 };
      // Referenced only while it has work: an idle pool does not keep the process alive, a busy one does.
      worker.on('message', (a: RecoveryAnswer) => {
        if (--slot.inFlight === 0) worker.unref();
        this.answer(a);
      });
      // A worker that died takes its batches with it: they fail (the caller answers UNAVAILABLE-like errors),
      // and later signatures go to the others, or are recovered here when none is left.
      worker.on('error', (e: Error) => {
        const i = this.workers.indexOf(slot);
        if (i >= 0) this.workers.splice(i, 1);
        this.failAll(e);
      });
      worker.unref();
      this.workers.push(slot);
    }
  }

  /** The address that signed `digest`; rejects with INVALID_SIGNATURE as recoverSigner throws. */
  recover(digest: Hex, signature: string): Promise<Address> {
    let parsed: { rs: Uint8Array; recid: number };
    try {
      parsed = parseSignatureForRecovery(signature);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ rs: parsed.rs, recid: parsed.recid, digest: hexToBytes(digest), resolve, reject });
      if (this.queue.length >= this.batch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  async close(): Promise<void> {
    this.failAll(new Error('recovery pool closed'));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const idle = this.jobs.size === 0;
      if (this.workers.length === 0 || (idle && this.queue.length < this.syncBelow)) {
        // Too few to be worth a round trip (or no workers): here and now.
        for (const w of this.queue.splice(0)) {
          const who = recoverParsed(w.rs, w.recid, w.digest);
          if (who === undefined) w.reject(notRecovered());
          else w.resolve(who);
        }
        return;
      }
      const items = this.queue.splice(0, this.batch);
      const n = items.length;
      const buffers = [new ArrayBuffer(n * 32), new ArrayBuffer(n * 64), new ArrayBuffer(n)] as const;
      const job: RecoveryJob = { id: this.nextId++, digests: new Uint8Array(buffers[0]), rs: new Uint8Array(buffers[1]), recids: new Uint8Array(buffers[2]) };
      items.forEach((w, i) => {
        job.digests.set(w.digest, i * 32);
        job.rs.set(w.rs, i * 64);
        job.recids[i] = w.recid;
      });
      this.jobs.set(job.id, items);
      const slot = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      if (slot.inFlight++ === 0) slot.worker.ref();
      slot.worker.postMessage(job, [...buffers]);
    }
  }

  private answer(a: RecoveryAnswer): void {
    const items = this.jobs.get(a.id);
    if (items === undefined) return;
    this.jobs.delete(a.id);
    items.forEach((w, i) => {
      const who = a.signers[i];
      if (who === null || who === undefined) w.reject(notRecovered());
      else w.resolve(who as Address);
    });
  }

  private failAll(e: Error): void {
    for (const items of this.jobs.values()) for (const w of items) w.reject(e);
    this.jobs.clear();
    for (const w of this.queue.splice(0)) w.reject(e);
  }
}
