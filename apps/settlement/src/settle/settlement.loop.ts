// Use-case: the settlement state machine. One loop, restartable at any point because every step starts from
// what the database and the chain say, never from memory:
//
//   MINED batches      -> confirmation depth reached on the canonical chain: CONFIRMED (fills SETTLED)
//                         left the chain (reorg, node lost blocks): back to SUBMITTED, re-sent under its id
//   the lowest CREATED/SUBMITTED batch -> already on chain (BatchSettled log): adopt it, never re-send
//                         otherwise broadcast (journaled first), replace while stuck, until mined
//                         mined but reverted: re-prepare the same fills under the same id
//   nothing unmined    -> select pending fills (count / gas / age), prepare (simulate, exclude what the
//                         contract rejects), store the batch, loop
import type { BatchSettler, MinedBatch, PreparedBatch } from '@parallax/chain';
import { batchInputFor, type SettlementDomain, type SettlementMarket } from '@parallax/chain';
import type { SettlementStatus } from '@parallax/contracts';
import type { Logger } from '@parallax/observability';
import type { BatchRow, FailedFill, PendingFill, SettlementRepository } from '@parallax/persistence';
import { bytesToHex, hexToBytes } from 'viem';
import type { SettlementConfig } from '../config/settlement.config.js';
import { selectBatch, type BatchLimits, type CandidateFill } from '../domain/batch-policy.js';
import { fillKey, orderKey, signedOrderOf } from '../domain/records.js';
import type { SettlementMetrics } from './settlement.metrics.js';

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

  constructor(
    private readonly config: SettlementConfig,
    private readonly repo: SettlementRepository,
    private readonly settler: SettlerPort,
    private readonly domain: SettlementDomain,
    private readonly metrics: SettlementMetrics,
    private readonly publish: StatusSink,
    private readonly log: Logger,
  ) {
    this.limits = config.batch;
  }

  /** New fills or orders were stored: stop sleeping. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Runs until `signal` aborts. Never throws for a transient failure: it logs, backs off and retries. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 100;
    while (!signal.aborted) {
      try {
        const worked = await this.step(signal);
        backoff = 100;
        if (!worked) await this.sleep(this.config.settler.pollIntervalMs, signal);
      } catch (err) {
        if (aborted(signal)) break;
        this.metrics.rpcErrors.inc({ operation: 'step' });
        this.log.warn({ err }, 'settlement step failed; retrying');
        await this.sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  /** One pass of the state machine; true when it did something (the caller loops again at once). */
  async step(signal: AbortSignal): Promise<boolean> {
    const open = await this.repo.openBatches();
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
      await this.drive(unmined, signal);
      return true;
    }
    return (await this.buildNext(signal)) || worked;
  }

  private async confirm(b: BatchRow, signal: AbortSignal): Promise<void> {
    // The contract skips (FillsSkipped) rather than reverts a fill whose trader lacked the funds when it was
    // mined. Encoded fill i is the batch's i-th fill by id (batches are built in id order), read at the
    // confirmation depth so a reorg cannot change which ones failed.
    const skippedIdx = await this.settler.skippedFills(minedOf(b), signal);
    let skipped: FailedFill[] = [];
    if (skippedIdx.length > 0) {
      const fills = await this.repo.fillsOfBatch(b.id);
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

  /** Gets the lowest unmined batch on chain: adopt it if it is there already, else (re)broadcast it. */
  private async drive(b: BatchRow, signal: AbortSignal): Promise<void> {
    const onChain = await this.settler.lastBatchId(signal);
    if (onChain >= b.id) {
      const mined = await this.settler.findSettled(b.id, signal);
      if (mined === undefined) throw new Error(`the contract reports batch ${b.id} settled but no BatchSettled log was found`);
      this.log.info({ batchId: b.id.toString(), txHash: mined.hash }, 'batch found on chain (adopted, not re-sent)');
      await this.mined(b, mined);
      return;
    }
    if (onChain < b.id - 1n) {
      // An earlier batch is not on chain: the confirmation pass must notice the drop first.
      throw new Error(`batch ${b.id} waits for batch ${onChain + 1n}, which is not on chain`);
    }
    const previous = await this.repo.broadcasts(b.id);
    const mined = await this.settler.broadcast(
      b.id,
      bytesToHex(b.data),
      b.gasLimit,
      {
        beforeBroadcast: async (batchId, tx) => {
          const first = previous.length === 0 && b.status === 'CREATED';
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
    const prepared = await this.prepare(b.id, fills, signal);
    const failed = this.failures(fills, prepared);
    const released = prepared.kind === 'ready' ? prepared.deferred.map((i) => fillKey(fills[i]!)) : [];
    if (prepared.kind === 'empty') {
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

  private async buildNext(signal: AbortSignal): Promise<boolean> {
    // Every stored batch is MINED or CONFIRMED here. If the chain stops short of them it lost them (a reorg
    // deeper than the confirmation depth, or a node restarted from an older state): re-send them under their ids.
    const onChain = await this.settler.lastBatchId(signal);
    const stored = await this.repo.maxBatchId();
    if (onChain < stored) {
      const reopened = await this.repo.reopenLostBatches(onChain);
      this.metrics.reorgs.inc(reopened.length);
      this.metrics.lastConfirmedBatch.set(Number(onChain));
      this.log.error({ onChain: onChain.toString(), stored: stored.toString(), reopened: reopened.map(String) }, 'the chain lost settled batches; re-sending them');
      for (const id of reopened) {
        const b = await this.repo.batch(id);
        await this.emit({ batchId: id, status: 'dropped', fillCount: b?.fillCount ?? 0 });
      }
      return true;
    }
    const { ready, waiting } = await this.repo.pendingFillsByReadiness(this.limits.maxFills * 2);
    if (ready.length === 0 && waiting.length === 0) return false;
    if (onChain > stored) this.log.warn({ onChain: onChain.toString(), stored: stored.toString() }, 'the contract has batches this database does not know; continuing after them');
    const candidates: Candidate[] = [...ready, ...waiting].map((fill) => ({
      fill,
      receivedAtMs: fill.createdAt.getTime(),
      makerOrder: fill.maker === undefined ? undefined : orderKey(fill.marketId, fill.maker.orderId),
      takerOrder: fill.taker === undefined ? undefined : orderKey(fill.marketId, fill.taker.orderId),
    }));
    const selection = selectBatch(candidates, Date.now(), this.limits);
    let worked = false;
    const batchId = onChain + 1n;
    if (selection.orphaned.length > 0) {
      const failed = selection.orphaned.map((c) => ({
        ...fillKey(c.fill),
        reason: 'SIGNED_ORDER_MISSING',
        detail: `no signed order for ${c.makerOrder === undefined ? `maker ${c.fill.makerOrderId}` : `taker ${c.fill.takerOrderId}`} after ${this.limits.signedOrderWaitMs} ms`,
      }));
      await this.repo.failFills(failed);
      await this.reportFailures(batchId, failed);
      worked = true;
    }
    if (selection.take.length === 0) return worked;
    // In id order: the encoded fill order then matches fillsOfBatch, which is how skipped fills are found.
    const fills = selection.take.map((c) => c.fill).sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const prepared = await this.prepare(batchId, fills, signal);
    const failed = this.failures(fills, prepared);
    if (prepared.kind === 'empty') {
      await this.repo.failFills(failed);
    } else {
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
    }
    await this.reportFailures(batchId, failed);
    return true;
  }

  private prepare(batchId: bigint, fills: readonly PendingFill[], signal: AbortSignal): Promise<PreparedBatch> {
    const input = batchInputFor(
      this.domain,
      (marketId) => this.market(marketId),
      fills.map((f) => {
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
    return this.settler.prepare(batchId, input, signal);
  }

  private market(marketId: number): SettlementMarket {
    const m = this.config.markets.get(marketId);
    if (m === undefined) throw new Error(`market ${marketId} has no settlement configuration`);
    return m;
  }

  private failures(fills: readonly PendingFill[], prepared: PreparedBatch): FailedFill[] {
    return prepared.excluded.map((x) => ({ ...fillKey(fills[x.fill]!), reason: x.reason, detail: x.detail }));
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
