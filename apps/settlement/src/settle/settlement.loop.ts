// Use-case: the settlement state machine. One loop, restartable at any point because every step starts from
// what the database and the chain say, never from memory:
//
//   MINED batches      -> confirmation depth reached on the canonical chain: CONFIRMED (fills SETTLED)
//                         left the chain (reorg, node lost blocks): back to SUBMITTED, re-sent under its id
//   the lowest CREATED/SUBMITTED batch -> already on chain (BatchSettled log): adopt it, never re-send
//                         otherwise broadcast (journaled first), replace while stuck, until mined
//                         mined but reverted: re-prepare the same fills under the same id
//   nothing unmined    -> select pending fills (count / gas / age), check them against their signed orders,
//                         prepare (simulate, exclude what the contract rejects), store the batch, loop
//
// Before anything else each step compares the contract's lastBatchId with the highest CONFIRMED batch: a
// chain that lost confirmed batches gets them reopened first (else the next unmined batch could never be
// mined). A batch found on chain is adopted only when the mined transaction's input is exactly the calldata
// of the batch stored here; anything else halts the loop (FOREIGN_BATCH). So does losing the writer lease
// (checked before every broadcast) and finding batches on chain after ours that this database never made.
import type { BatchSettler, MinedBatch, PreparedBatch } from '@parallax/chain';
import { batchInputFor, ChainError, settleBatchCalldata, type BatchInput, type SettlementDomain, type SettlementMarket } from '@parallax/chain';
import type { SettlementStatus } from '@parallax/contracts';
import type { Logger } from '@parallax/observability';
import { PersistenceError, type BatchRow, type FailedFill, type FillKey, type PendingFill, type SettlementRepository, type WriterLease } from '@parallax/persistence';
import { bytesToHex, hexToBytes } from 'viem';
import type { SettlementConfig } from '../config/settlement.config.js';
import { selectBatch, type BatchLimits, type CandidateFill } from '../domain/batch-policy.js';
import { isTraderFault, SIGNED_ORDER_MISMATCH, signedOrderMismatch } from '../domain/fill-checks.js';
import { fillKey, orderKey, signedOrderOf } from '../domain/records.js';
import type { SettlementMetrics } from './settlement.metrics.js';

/** Faults after which this process must not broadcast again until a person has looked (stable codes). */
export type HaltCode = 'FOREIGN_BATCH' | 'UNKNOWN_BATCHES_ON_CHAIN' | 'SETTLEMENT_WRITER_LOST';

/** Thrown by step() once the loop halted, and by the checks that halt it. */
export class SettlementHalt extends Error {
  constructor(
    readonly code: HaltCode,
    message: string,
  ) {
    super(message);
    this.name = 'SettlementHalt';
  }
}

/** The loop's real state, for /health and the engineer on call. */
export interface LoopHealth {
  /** ok: stepping; degraded: retrying failures, a stuck batch or alerts; halted: stopped for good (see halt). */
  readonly status: 'ok' | 'degraded' | 'halted';
  readonly lastSuccessAtMs: number | undefined;
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  readonly halt: { readonly code: HaltCode; readonly detail: string; readonly atMs: number } | undefined;
  /** The lowest unconfirmed batch and since when it has been the one the loop waits for. */
  readonly oldestOpenBatch: { readonly id: string; readonly status: string; readonly sinceMs: number; readonly stuck: boolean } | undefined;
  /** Fills past SIGNED_ORDER_WAIT_MS still waiting for a signed order (they keep waiting; never failed for it). */
  readonly fillsOverdueForOrders: number;
  /** The last fill the chain refused for a reason that is not the trader's (kept PENDING and retried). */
  readonly lastSystemFault: { readonly reason: string; readonly detail: string; readonly atMs: number } | undefined;
}

/** A batch is reported stuck after this long as the lowest open batch (at least a minute). */
const STUCK_FACTOR = 4;
const MIN_STUCK_MS = 60_000;
/** A system fault keeps the health degraded this long after it was last seen. */
const SYSTEM_FAULT_ALERT_MS = 300_000;
/**
 * Poll interval while nothing is open and no fill waits: only new fills (which wake() the loop at once) or a
 * reorg of confirmed batches can change anything then, so a fast POLL_INTERVAL_MS (50 ms in npm start) would
 * only keep the database and the node busy: it was most of an idle exchange's CPU (docs/benchmarks.md).
 */
export const IDLE_POLL_MS = 2_000;
/**
 * While quiet, an idle step reads only the contract's lastBatchId: the database holds nothing to do, and only
 * this process writes it (the writer lease), so it can change only through the ingest, which wake()s the loop.
 * A step with a new lastBatchId (a reorg, a foreign batch) or after a wake() reads the database again, and so
 * does every QUIET_FULL_STEP_EVERY-th idle step (one a minute at IDLE_POLL_MS), in case a row was written
 * without a wake. Five PGlite queries every 2 s were most of an idle `npm start` (docs/benchmarks.md).
 */
export const QUIET_FULL_STEP_EVERY = 30;

interface Candidate extends CandidateFill {
  readonly fill: PendingFill;
}

export type StatusSink = (status: SettlementStatus) => Promise<void>;

/** What the loop needs of the chain (BatchSettler in production; tests may script a chain). */
export type SettlerPort = Pick<BatchSettler, 'lastBatchId' | 'prepare' | 'broadcast' | 'checkConfirmation' | 'findSettled' | 'skippedFills'>;

export class SettlementLoop {
  private readonly limits: BatchLimits;
  private wakeUp: (() => void) | undefined;
  private statsAt = 0;
  private lastSuccessAtMs: number | undefined;
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  private halted: LoopHealth['halt'];
  private oldestOpen: { id: bigint; status: string; sinceMs: number } | undefined;
  private overdueForOrders = 0;
  private lastSystemFault: LoopHealth['lastSystemFault'];
  /** The last step found no open batch and no pending fill. */
  private quiet = false;
  /** The contract's lastBatchId when the loop became quiet. */
  private quietAtBatch: bigint | undefined;
  /** Idle steps since the last one that read the database. */
  private quietSteps = 0;
  /** wake() was called since the last step that read the database. */
  private woken = false;

  constructor(
    private readonly config: SettlementConfig,
    private readonly repo: SettlementRepository,
    private readonly settler: SettlerPort,
    private readonly domain: SettlementDomain,
    private readonly metrics: SettlementMetrics,
    private readonly publish: StatusSink,
    private readonly log: Logger,
    /** Held for the life of the process; checked before every broadcast. */
    private readonly lease: Pick<WriterLease, 'assertHeld'>,
  ) {
    this.limits = config.batch;
  }

  health(now = Date.now()): LoopHealth {
    const stuckAfter = Math.max(MIN_STUCK_MS, STUCK_FACTOR * this.config.settler.replaceAfterMs);
    const open = this.oldestOpen;
    const oldestOpenBatch = open === undefined ? undefined : { id: open.id.toString(), status: open.status, sinceMs: open.sinceMs, stuck: now - open.sinceMs > stuckAfter };
    const faultRecent = this.lastSystemFault !== undefined && now - this.lastSystemFault.atMs < SYSTEM_FAULT_ALERT_MS;
    const degraded = this.consecutiveFailures > 0 || oldestOpenBatch?.stuck === true || this.overdueForOrders > 0 || faultRecent;
    return {
      status: this.halted !== undefined ? 'halted' : degraded ? 'degraded' : 'ok',
      lastSuccessAtMs: this.lastSuccessAtMs,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      halt: this.halted,
      oldestOpenBatch,
      fillsOverdueForOrders: this.overdueForOrders,
      lastSystemFault: this.lastSystemFault,
    };
  }

  /** New fills or orders were stored: stop sleeping. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Runs until `signal` aborts. Never throws for a transient failure: it logs, backs off and retries (the
   * health shows the consecutive failures). A halt stops stepping for good; the process stays up so that
   * /health and /metrics say why.
   */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 100;
    while (!signal.aborted) {
      try {
        const worked = await this.step(signal);
        backoff = 100;
        if (!worked) await this.sleep(this.pollDelayMs(), signal);
      } catch (err) {
        if (aborted(signal)) break;
        if (this.halted !== undefined) {
          await this.sleep(60_000, signal);
          continue;
        }
        this.metrics.rpcErrors.inc({ operation: 'step' });
        this.log.warn({ err, consecutiveFailures: this.consecutiveFailures }, 'settlement step failed; retrying');
        await this.sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  /** How long run() sleeps after a step that did nothing (wake() cuts it short). */
  pollDelayMs(): number {
    const poll = this.config.settler.pollIntervalMs;
    return this.quiet ? Math.max(poll, IDLE_POLL_MS) : poll;
  }

  /** One pass of the state machine; true when it did something (the caller loops again at once). */
  async step(signal: AbortSignal): Promise<boolean> {
    if (this.halted !== undefined) throw new SettlementHalt(this.halted.code, this.halted.detail);
    try {
      const worked = await this.stepOnce(signal);
      this.lastSuccessAtMs = Date.now();
      this.consecutiveFailures = 0;
      this.lastError = undefined;
      return worked;
    } catch (err) {
      const halt = haltOf(err);
      if (halt !== undefined) this.halt(halt);
      else {
        this.consecutiveFailures++;
        this.lastError = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : String(err);
      }
      throw halt ?? err;
    }
  }

  private halt(h: SettlementHalt): void {
    if (this.halted !== undefined) return;
    this.halted = { code: h.code, detail: h.message, atMs: Date.now() };
    this.metrics.halted.set({ reason: h.code }, 1);
    this.log.error({ code: h.code, detail: h.message }, 'settlement HALTED: no further broadcast from this process until an operator has resolved it');
  }

  private async stepOnce(signal: AbortSignal): Promise<boolean> {
    const wasQuiet = this.quiet;
    this.quiet = false;
    // Every step writes the database (reopen, create, re-prepare, confirm), not only broadcasts: a process that
    // lost the lease must stop before it touches the new writer's batches, so the lease is checked first here
    // and again right before each broadcast.
    await this.lease.assertHeld();
    // A chain that lost CONFIRMED batches first: until they are back, no later batch can be mined. The one
    // reading of lastBatchId serves the whole step (nothing is broadcast before drive/buildNext use it).
    const onChain = await this.settler.lastBatchId(signal);
    if (wasQuiet && !this.woken && onChain === this.quietAtBatch && this.quietSteps < QUIET_FULL_STEP_EVERY - 1) {
      // Still quiet: nothing woke the loop and the chain has the same batches (see QUIET_FULL_STEP_EVERY).
      this.quietSteps++;
      this.quiet = true;
      return false;
    }
    this.quietSteps = 0;
    // A wake() from here on is for what this step may not see: the next step reads the database again.
    this.woken = false;
    if (onChain < (await this.repo.maxBatchId(['CONFIRMED']))) {
      await this.reopenLost(onChain);
      return true;
    }
    const open = await this.repo.openBatches();
    this.trackOldestOpen(open);
    let worked = false;
    for (const b of open) {
      if (b.status !== 'MINED') continue;
      const outcome = await this.settler.checkConfirmation(minedOf(b), signal);
      if (outcome === 'confirmed') {
        await this.confirm(b, signal);
        worked = true;
      } else if (outcome === 'dropped') {
        await this.repo.markDropped(b.id);
        this.metrics.reorgs.inc();
        this.metrics.batches.inc({ status: 'dropped' });
        this.log.warn({ batchId: b.id.toString(), txHash: b.txHash }, 'mined batch left the chain; re-sending it');
        await this.emit({ batchId: b.id, status: 'dropped', fillCount: b.fillCount, ...(b.txHash === undefined ? {} : { txHash: b.txHash }) });
        return true;
      } else {
        break; // later batches are no deeper
      }
    }
    await this.refreshStats();
    const unmined = open.find((b) => b.status === 'CREATED' || b.status === 'SUBMITTED');
    if (unmined !== undefined) {
      await this.drive(unmined, onChain, signal);
      return true;
    }
    return (await this.buildNext(onChain, signal)) || worked;
  }

  private async confirm(b: BatchRow, signal: AbortSignal): Promise<void> {
    // The contract skips (FillsSkipped) rather than reverts a fill whose trader lacked the funds when it was
    // mined. Encoded fill i is the batch's i-th fill by id (batches are built in id order), read at the
    // confirmation depth so a reorg cannot change which ones failed.
    const skippedIdx = await this.settler.skippedFills(minedOf(b), signal);
    let skipped: FailedFill[] = [];
    if (skippedIdx.length > 0) {
      const fills = await this.repo.fillsOfBatch(b.id);
      // The indexes name encoded fills: they only map onto the stored fills if the batch still holds exactly
      // what was encoded. Anything else is our fault, never a reason to fail a trader's fill: stop (retried, alerted).
      if (fills.length !== b.fillCount || new Set(skippedIdx).size !== skippedIdx.length) {
        throw new Error(`batch ${b.id}: ${fills.length} stored fills for ${b.fillCount} encoded, skipped indexes ${skippedIdx.join(',')}`);
      }
      skipped = skippedIdx.map((i) => {
        const f = fills[i];
        if (f === undefined) throw new Error(`batch ${b.id} skipped fill ${i} of ${fills.length}`);
        return { ...fillKey(f), reason: 'FillUnderfunded', detail: `skipped by batch ${b.id} (FillsSkipped): a trader lacked the funds when it was mined` };
      });
    }
    const arrivals = await this.repo.fillArrivalsOfBatch(b.id);
    await this.repo.markConfirmed(b.id, Date.now(), skipped);
    await this.reportFailures(b.id, skipped);
    const now = Date.now();
    for (const at of arrivals) this.metrics.settlementLatency.observe((now - at.getTime()) / 1000);
    this.metrics.fillsSettled.inc(arrivals.length - skipped.length);
    this.metrics.batches.inc({ status: 'confirmed' });
    this.metrics.lastConfirmedBatch.set(Number(b.id));
    this.log.info({ batchId: b.id.toString(), fills: arrivals.length, txHash: b.txHash }, 'batch confirmed');
    await this.emit({
      batchId: b.id,
      status: 'confirmed',
      fillCount: b.fillCount,
      ...(b.txHash === undefined ? {} : { txHash: b.txHash }),
      ...(b.blockNumber === undefined ? {} : { blockNumber: b.blockNumber }),
      ...(b.gasUsed === undefined ? {} : { gasUsed: b.gasUsed, gasPerFill: b.gasUsed / BigInt(Math.max(1, b.fillCount)) }),
    });
  }

  private trackOldestOpen(open: readonly BatchRow[]): void {
    const lowest = open[0];
    if (lowest === undefined) this.oldestOpen = undefined;
    else if (this.oldestOpen?.id !== lowest.id) this.oldestOpen = { id: lowest.id, status: lowest.status, sinceMs: Date.now() };
    else this.oldestOpen.status = lowest.status;
  }

  /** Gets the lowest unmined batch on chain: adopt it if it is there already and ours, else (re)broadcast it. */
  private async drive(b: BatchRow, onChain: bigint, signal: AbortSignal): Promise<void> {
    if (onChain >= b.id) {
      const mined = await this.settler.findSettled(b.id, signal);
      if (mined === undefined) throw new Error(`the contract reports batch ${b.id} settled but no BatchSettled log was found`);
      this.assertOurs(b, mined);
      this.log.info({ batchId: b.id.toString(), txHash: mined.hash }, 'batch found on chain with our calldata (adopted, not re-sent)');
      await this.mined(b, mined);
      return;
    }
    if (onChain < b.id - 1n) {
      // An earlier batch is not on chain: the confirmation pass must notice the drop first.
      throw new Error(`batch ${b.id} waits for batch ${onChain + 1n}, which is not on chain`);
    }
    await this.lease.assertHeld();
    const previous = await this.repo.broadcasts(b.id);
    const mined = await this.settler.broadcast(
      b.id,
      bytesToHex(b.data),
      b.gasLimit,
      {
        beforeBroadcast: async (batchId, tx) => {
          const first = previous.length === 0 && b.status === 'CREATED';
          // Every broadcast, replacements included: a process that lost the lease must not send anything.
          await this.lease.assertHeld();
          await this.repo.recordBroadcast(batchId, tx);
          this.metrics.batches.inc({ status: first ? 'submitted' : 'replaced' });
          if (!first) this.metrics.replacements.inc();
          await this.emit({ batchId, status: 'submitted', fillCount: b.fillCount, txHash: tx.hash, nonce: tx.nonce });
        },
      },
      { previous, signal },
    );
    if (mined.status === 'reverted') {
      this.metrics.batches.inc({ status: 'reverted' });
      this.log.warn({ batchId: b.id.toString(), txHash: mined.hash }, 'batch reverted on chain; re-preparing it under the same id');
      await this.reprepare(b, signal);
      return;
    }
    await this.mined(b, mined);
  }

  /**
   * A settlement of b.id found on chain is ours only if its transaction carried exactly the calldata stored for
   * b. Anything else means another holder of the operator key or a second writer settled other fills under
   * our id: adopting it would mark fills SETTLED that never were.
   */
  private assertOurs(b: BatchRow, mined: MinedBatch): void {
    const ours = settleBatchCalldata(b.id, bytesToHex(b.data));
    if (mined.input?.toLowerCase() === ours.toLowerCase()) return;
    this.metrics.foreignBatches.inc();
    throw new SettlementHalt(
      'FOREIGN_BATCH',
      `batch ${b.id} was settled on chain by ${mined.hash} with calldata that is not ours (${mined.input === undefined ? 'input unknown' : `${(mined.input.length - 2) / 2} bytes, ours ${(ours.length - 2) / 2}`}): the operator key is used elsewhere or a second writer runs`,
    );
  }

  private async mined(b: BatchRow, m: MinedBatch): Promise<void> {
    await this.repo.markMined(b.id, {
      hash: m.hash,
      blockNumber: m.blockNumber,
      blockHash: m.blockHash,
      gasUsed: m.gasUsed,
      effectiveGasPrice: m.effectiveGasPrice,
      atMs: Date.now(),
    });
    this.metrics.batches.inc({ status: 'mined' });
    this.metrics.batchFills.observe(b.fillCount);
    this.metrics.batchGas.observe(Number(m.gasUsed));
    this.metrics.gasPerFill.observe(Number(m.gasUsed) / Math.max(1, b.fillCount));
    await this.emit({
      batchId: b.id,
      status: 'mined',
      fillCount: b.fillCount,
      txHash: m.hash,
      blockNumber: m.blockNumber,
      gasUsed: m.gasUsed,
      gasPerFill: m.gasUsed / BigInt(Math.max(1, b.fillCount)),
    });
  }

  /** A mined revert: the same fills, simulated again under the same id; what the contract names is dropped. */
  private async reprepare(b: BatchRow, signal: AbortSignal): Promise<void> {
    const fills = await this.repo.fillsOfBatch(b.id);
    const { prepared, failed, retried } = await this.prepare(b.id, fills, signal);
    const released: FillKey[] = [...retried, ...(prepared?.kind === 'ready' ? prepared.deferred.map((i) => fillKey(fills[i]!)) : [])];
    if (prepared === undefined || prepared.kind === 'empty') {
      await this.repo.abandonBatch(b.id, failed, released);
    } else {
      await this.repo.replaceBatchContents(b.id, {
        fills: prepared.kept.map((i) => fillKey(fills[i]!)),
        orderCount: prepared.encoded.orders.length,
        gasLimit: prepared.gasLimit,
        data: hexToBytes(prepared.encoded.data),
        failed,
        released,
      });
    }
    await this.reportFailures(b.id, failed);
  }

  /**
   * MINED or CONFIRMED batches above the contract's lastBatchId were lost by the chain (a reorg deeper than the
   * confirmation depth, or a node restarted from an older state): reopened, to be re-sent under their ids.
   */
  private async reopenLost(onChain: bigint): Promise<void> {
    const reopened = await this.repo.reopenLostBatches(onChain);
    this.metrics.reorgs.inc(reopened.length);
    this.metrics.lastConfirmedBatch.set(Number(onChain));
    this.log.error({ onChain: onChain.toString(), reopened: reopened.map(String) }, 'the chain lost settled batches; re-sending them');
    for (const id of reopened) {
      const b = await this.repo.batch(id);
      await this.emit({ batchId: id, status: 'dropped', fillCount: b?.fillCount ?? 0 });
    }
  }

  private async buildNext(onChain: bigint, signal: AbortSignal): Promise<boolean> {
    // Every stored batch is MINED or CONFIRMED here. If the chain stops short of them it lost them.
    const stored = await this.repo.maxBatchId();
    if (onChain < stored) {
      await this.reopenLost(onChain);
      return true;
    }
    if (onChain > stored && stored > 0n) {
      // Batches after ours that this database never made: the operator key settles elsewhere too.
      this.metrics.foreignBatches.inc();
      throw new SettlementHalt('UNKNOWN_BATCHES_ON_CHAIN', `the contract has settled batches ${stored + 1n}..${onChain}, which this database never made`);
    }
    const { ready, waiting } = await this.repo.pendingFillsByReadiness(this.limits.maxFills * 2);
    if (ready.length === 0 && waiting.length === 0) {
      this.overdueForOrders = 0;
      this.metrics.fillsOverdueForOrders.set(0);
      this.quiet = this.oldestOpen === undefined;
      this.quietAtBatch = onChain;
      return false;
    }
    if (onChain > stored) this.log.warn({ onChain: onChain.toString(), stored: stored.toString() }, 'an empty database on a contract with batches; continuing after them');
    const candidates: Candidate[] = [...ready, ...waiting].map((fill) => ({
      fill,
      receivedAtMs: fill.createdAt.getTime(),
      makerOrder: fill.maker === undefined ? undefined : orderKey(fill.marketId, fill.maker.orderId),
      takerOrder: fill.taker === undefined ? undefined : orderKey(fill.marketId, fill.taker.orderId),
    }));
    const selection = selectBatch(candidates, Date.now(), this.limits);
    const batchId = onChain + 1n;
    // A signed order that never arrives is the ingest's fault, not the trader's: the fill keeps waiting (it
    // settles if the order comes), does not hold up the others, and is an alert.
    if (selection.orphaned.length !== this.overdueForOrders) {
      if (selection.orphaned.length > 0) {
        const c = selection.orphaned[0]!;
        this.log.error(
          { fills: selection.orphaned.length, first: `${c.fill.marketId}/${c.fill.seq}`, waitMs: this.limits.signedOrderWaitMs },
          'fills still wait for their signed orders past SIGNED_ORDER_WAIT_MS (kept PENDING, not failed)',
        );
      }
      this.overdueForOrders = selection.orphaned.length;
      this.metrics.fillsOverdueForOrders.set(selection.orphaned.length);
    }
    if (selection.take.length === 0) return false;
    // In id order: the encoded fill order then matches fillsOfBatch, which is how skipped fills are found.
    const fills = selection.take.map((c) => c.fill).sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const { prepared, failed } = await this.prepare(batchId, fills, signal);
    if (prepared === undefined || prepared.kind === 'empty') {
      await this.repo.failFills(failed);
      await this.reportFailures(batchId, failed);
      // With only system faults left nothing changed: sleep before trying them again.
      return failed.length > 0;
    }
    await this.repo.createBatch(
      {
        id: batchId,
        fills: prepared.kept.map((i) => fillKey(fills[i]!)),
        orderCount: prepared.encoded.orders.length,
        gasLimit: prepared.gasLimit,
        data: hexToBytes(prepared.encoded.data),
      },
      failed,
    );
    this.metrics.batches.inc({ status: 'created' });
    this.log.info(
      { batchId: batchId.toString(), fills: prepared.kept.length, reason: selection.reason, gasLimit: prepared.gasLimit.toString(), excluded: failed.length },
      'batch created',
    );
    await this.reportFailures(batchId, failed);
    return true;
  }

  /**
   * Checks each fill against its signed orders and the market rules, simulates the rest under `batchId` and
   * sorts what was excluded: `failed` (bad records and trader faults: FAILED for good) and `retried` (system
   * faults: left PENDING, or released from the batch, and alerted). `prepared` is undefined when no fill was
   * left to simulate; its indexes refer to `fills`.
   */
  private async prepare(
    batchId: bigint,
    fills: readonly PendingFill[],
    signal: AbortSignal,
  ): Promise<{ prepared: PreparedBatch | undefined; failed: FailedFill[]; retried: FillKey[] }> {
    const failed: FailedFill[] = [];
    const usable: number[] = [];
    fills.forEach((f, i) => {
      const mismatch = signedOrderMismatch(f);
      if (mismatch !== undefined) {
        this.metrics.badRecords.inc({ reason: SIGNED_ORDER_MISMATCH });
        this.log.error({ marketId: f.marketId, seq: f.seq.toString(), detail: mismatch }, 'a trade contradicts its signed orders: failed, never settled');
        failed.push({ ...fillKey(f), reason: SIGNED_ORDER_MISMATCH, detail: mismatch });
      } else {
        usable.push(i);
      }
    });
    let input: BatchInput;
    let kept: number[] = usable;
    try {
      input = this.inputFor(fills, kept);
    } catch (err) {
      // One record the encoder refuses must not block the others: find it fill by fill.
      if (!(err instanceof ChainError)) throw err;
      kept = [];
      for (const i of usable) {
        try {
          this.inputFor(fills, [i]);
          kept.push(i);
        } catch (e) {
          if (!(e instanceof ChainError)) throw e;
          this.metrics.badRecords.inc({ reason: e.code });
          failed.push({ ...fillKey(fills[i]!), reason: e.code, detail: e.message });
        }
      }
      input = this.inputFor(fills, kept);
    }
    if (kept.length === 0) return { prepared: undefined, failed, retried: [] };
    const sub = await this.settler.prepare(batchId, input, signal);
    const retried: FillKey[] = [];
    for (const x of sub.excluded) {
      const f = fills[kept[x.fill]!]!;
      if (isTraderFault(x.reason)) {
        failed.push({ ...fillKey(f), reason: x.reason, detail: x.detail });
      } else {
        retried.push(fillKey(f));
        this.metrics.systemFaults.inc({ reason: x.reason });
        this.lastSystemFault = { reason: x.reason, detail: `${f.marketId}/${f.seq}: ${x.detail}`.slice(0, 500), atMs: Date.now() };
        this.log.error({ batchId: batchId.toString(), marketId: f.marketId, seq: f.seq.toString(), reason: x.reason, detail: x.detail }, 'the chain refused a fill for a reason that is not the trader\'s: kept, retried later');
      }
    }
    // Back to indexes into `fills`.
    const prepared: PreparedBatch =
      sub.kind === 'empty'
        ? { ...sub, excluded: [] }
        : { ...sub, kept: sub.kept.map((k) => kept[k]!), deferred: sub.deferred.map((k) => kept[k]!), excluded: [] };
    return { prepared, failed, retried };
  }

  private inputFor(fills: readonly PendingFill[], indexes: readonly number[]): BatchInput {
    return batchInputFor(
      this.domain,
      (marketId) => this.config.markets.get(marketId),
      indexes.map((i) => {
        const f = fills[i]!;
        const market = this.market(f.marketId);
        if (f.maker === undefined || f.taker === undefined) throw new Error(`fill ${f.marketId}/${f.seq} has no signed orders`);
        return {
          marketId: f.marketId,
          trade: {
            makerOrder: signedOrderOf(market, f.maker),
            takerOrder: signedOrderOf(market, f.taker),
            takerIsBuy: f.takerSide === 'BUY',
            priceTicks: Number(f.priceTicks),
            sizeLots: Number(f.sizeLots),
          },
        };
      }),
      this.config.fees,
    );
  }

  private market(marketId: number): SettlementMarket {
    const m = this.config.markets.get(marketId);
    if (m === undefined) throw new Error(`market ${marketId} has no settlement configuration`);
    return m;
  }

  private async reportFailures(batchId: bigint, failed: readonly FailedFill[]): Promise<void> {
    if (failed.length === 0) return;
    for (const f of failed) this.metrics.fillsFailed.inc({ reason: f.reason });
    this.log.warn({ batchId: batchId.toString(), failed: failed.slice(0, 20) }, `${failed.length} fill(s) cannot be settled`);
    await this.emit({
      batchId,
      status: 'failed',
      fillCount: 0,
      failedFills: failed.map((f) => ({ marketId: f.marketId, seq: Number(f.seq), reason: f.reason, detail: f.detail ?? '' })),
    });
  }

  private async refreshStats(): Promise<void> {
    const now = Date.now();
    if (now - this.statsAt < 1_000) return;
    this.statsAt = now;
    const s = await this.repo.pendingStats();
    this.metrics.fillsWaiting.set(s.count);
    this.metrics.fillsWaitingForOrders.set(s.waitingForOrders);
    this.metrics.oldestWaitingSeconds.set(s.oldestCreatedAt === undefined ? 0 : (now - s.oldestCreatedAt.getTime()) / 1000);
  }

  private async emit(s: Omit<SettlementStatus, 'atMs' | 'failedFills'> & Partial<Pick<SettlementStatus, 'failedFills'>>): Promise<void> {
    try {
      await this.publish({ ...s, atMs: Date.now(), failedFills: s.failedFills ?? [] });
    } catch (err) {
      // Status events are a notification; the database and the chain are the record. Never stall settlement on them.
      this.log.warn({ err, batchId: s.batchId.toString(), status: s.status }, 'could not publish a settlement status event');
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }
}

/** The halt an error means, if it means one. */
function haltOf(err: unknown): SettlementHalt | undefined {
  if (err instanceof SettlementHalt) return err;
  if (err instanceof ChainError && err.code === 'FOREIGN_BATCH') return new SettlementHalt('FOREIGN_BATCH', err.message);
  if (err instanceof PersistenceError && err.code === 'SETTLEMENT_WRITER_LOST') return new SettlementHalt('SETTLEMENT_WRITER_LOST', err.message);
  return undefined;
}

/** Read through a call so the compiler does not narrow it across awaits. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function minedOf(b: BatchRow): MinedBatch {
  if (b.txHash === undefined || b.blockNumber === undefined || b.blockHash === undefined) throw new Error(`batch ${b.id} is MINED without its block`);
  return {
    batchId: b.id,
    hash: b.txHash,
    blockNumber: b.blockNumber,
    blockHash: b.blockHash,
    gasUsed: b.gasUsed ?? 0n,
    effectiveGasPrice: b.effectiveGasPrice ?? 0n,
    status: 'success',
  };
}
