// Follows the settlement contract's logs and writes each confirmed event once to the chain-events topic.
//
// A poll takes the next block range after the committed position, up to the confirmed head
// (head - CHAIN_CONFIRMATIONS + 1), reads its logs with eth_getLogs, checks that what it read is one chain
// (the first block's parent is the committed block, every log's block hash is the canonical one, the last
// block is still canonical), maps the logs to chain events and commits, in ONE transaction: the events
// (one ChainEventBatch per account shard, partition shardForAccount) and the new position (block + hash) on
// the progress topic. A crash before the commit leaves nothing visible; a restart reads the committed
// position and goes on from the next block: no gap, no duplicate.
//
// Reorgs: only confirmed blocks are read, so an event of a block that a reorg within the depth removes is
// never emitted. A reorg deeper than the depth (the committed block is no longer canonical) is impossible by
// definition of the depth; if the chain does it anyway the watcher halts (metric, /health 503, error) and
// emits nothing more: events already committed cannot be taken back, and an operator must decide.
import { encodeChainEventBatch, type ChainEvent } from '@parallax/contracts';
import { decodeBatch, settlementAbi, type DecodedBatch } from '@parallax/chain';
import type { Logger } from '@parallax/observability';
import { shardForAccount } from '@parallax/risk';
import { TransportError, type OutgoingMessage, type Producer, type Transport } from '@parallax/transport';
import { decodeEventLog, decodeFunctionData, type Address, type Hex, type PublicClient } from 'viem';
import { LedgerView, reconcile } from '../reconcile/ledger-view.js';
import type { ChainWatcherMetrics } from './chain-watcher.metrics.js';
import { mapLogs, pairKey, type ContractLog } from './event-mapper.js';
import { decodeProgress, encodeProgress, progressKey, type Progress } from './progress.js';

/** Events per ChainEventBatch message (well under MAX_RISK_RECORDS and the message size limit). */
const EVENTS_PER_MESSAGE = 1_000;
/** JSON-RPC calls in flight at once (block headers, balances). */
export const RPC_CONCURRENCY = 16;

export interface ChainWatcherSettings {
  readonly chainId: number;
  readonly settlement: Address;
  readonly startBlock: bigint;
  readonly confirmations: number;
  readonly blockRange: number;
  readonly pollIntervalMs: number;
  readonly chainEventsTopic: string;
  readonly progressTopic: string;
  readonly shards: number;
  readonly reconcile: boolean;
}

export type WatcherErrorCode = 'CHAIN_REORG_BELOW_DEPTH' | 'MALFORMED_PROGRESS' | 'MALFORMED_LOG' | 'WRONG_CHAIN';

export class WatcherError extends Error {
  constructor(
    readonly code: WatcherErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'WatcherError';
  }
}

export interface WatcherHealth {
  readonly status: 'starting' | 'following' | 'halted';
  readonly committedBlock: string | null;
  /** The head of the last poll that completed (everything confirmed at that head is committed). */
  readonly headBlock: string | null;
  readonly halt?: string;
}

/** Reads the committed position for this chain and contract (the last progress record with our key). */
export async function readProgress(transport: Transport, topic: string, chainId: number, settlement: Address): Promise<Progress | undefined> {
  const key = progressKey(chainId, settlement);
  let last: Progress | undefined;
  for await (const batch of transport.read(topic, 0, 0)) {
    for (const m of batch) {
      if (m.key !== key) continue;
      const p = decodeProgress(m.value);
      if (p === undefined) throw new WatcherError('MALFORMED_PROGRESS', `progress record at offset ${m.offset} of ${topic} is unreadable`);
      last = p;
    }
  }
  return last;
}

/** A fresh producer with the committed position and events read after it fenced the previous one. */
export interface ReopenedWriter {
  readonly producer: Producer;
  readonly progress: Progress | undefined;
  readonly events: readonly ChainEvent[];
}

/** Longest wait between polls after repeated failures. */
const FAILURE_BACKOFF_MAX_MS = 30_000;

export class ChainWatcher {
  private progress: Progress | undefined;
  private head: bigint | undefined;
  private state: WatcherHealth['status'] = 'starting';
  private haltReason: string | undefined;
  private ledger = new LedgerView();
  /** token -> account -> ledger - contract, for accounts that differ. */
  private readonly drifts = new Map<string, Map<string, bigint>>();
  /** Blocks per eth_getLogs now: halved when the provider refuses a range, back up to the setting after a commit. */
  private range: number;
  /** Ends the current sleep between polls (wake()). */
  private wakeUp: (() => void) | undefined;
  /** wake() calls so far (one during a poll means: poll again at once). */
  private wakes = 0;

  constructor(
    private readonly settings: ChainWatcherSettings,
    private readonly client: PublicClient,
    private producer: Producer,
    private readonly metrics: ChainWatcherMetrics,
    private readonly log: Logger,
    private readonly reopen?: () => Promise<ReopenedWriter>,
  ) {
    this.range = settings.blockRange;
  }

  /** Sets the committed position (restore) and the ledger view rebuilt from the events already committed. */
  restore(progress: Progress | undefined, committed: readonly ChainEvent[]): void {
    this.progress = progress;
    this.ledger = new LedgerView();
    for (const e of committed) this.ledger.apply(e);
    if (progress !== undefined) this.metrics.confirmedBlock.set(Number(progress.block));
  }

  health(): WatcherHealth {
    return {
      status: this.state,
      committedBlock: this.progress?.block.toString() ?? null,
      headBlock: this.head?.toString() ?? null,
      ...(this.haltReason === undefined ? {} : { halt: this.haltReason }),
    };
  }

  get committed(): Progress | undefined {
    return this.progress;
  }

  /**
   * A new block is known (e.g. from a newHeads subscription): poll now instead of at the end of the interval.
   * With such a source the interval is only the fallback, and it can be long.
   */
  wake(): void {
    this.wakes++;
    this.wakeUp?.();
  }

  /** Polls until `signal` aborts; rejects (after marking itself halted) on a reorg below the depth. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.settings.reconcile) await this.reconcileAll();
    let failures = 0;
    while (!signal.aborted) {
      let more = false;
      const wakes = this.wakes;
      try {
        more = await this.pollOnce();
        failures = 0;
      } catch (err) {
        if (err instanceof WatcherError) {
          this.halt(err.code, err.message);
          throw err;
        }
        if (err instanceof TransportError && err.code === 'PRODUCER_FENCED') {
          // Another instance of this watcher opened the same transactional id: it owns the position now.
          this.halt(err.code, err.message);
          throw err;
        }
        failures++;
        if (err instanceof TransportError && err.code === 'PRODUCER_CLOSED' && this.reopen !== undefined) {
          // The transport retired the producer (a commit it could not finish or abort, e.g. the coordinator
          // moved mid-EndTxn): whether that transaction committed is only known from the topic. A new producer
          // (which fences the old one and ends its transaction) and the position read again decide it.
          await this.reopenWriter();
        } else {
          // An RPC failure or a transaction that did not commit: nothing was written; the same range is read again.
          this.log.warn({ err, failures }, 'poll failed; retrying');
        }
        // Back off on repeated failures; a new block (wake) does not cut this short, so a broken broker or
        // node is not hammered once per block.
        await this.sleep(Math.min(FAILURE_BACKOFF_MAX_MS, this.settings.pollIntervalMs * 2 ** Math.min(failures - 1, 10)), signal, false);
        continue;
      }
      if (!more && this.wakes === wakes) await this.sleep(this.settings.pollIntervalMs, signal);
    }
  }

  private async reopenWriter(): Promise<void> {
    this.log.error({ committedBlock: this.progress?.block.toString() ?? null }, 'chain-events producer retired by the transport; reopening it and reading the committed position again');
    try {
      const w = await this.reopen!();
      const old = this.producer;
      this.producer = w.producer;
      await old.close().catch(() => undefined);
      this.restore(w.progress, w.events);
      this.metrics.producerReopens.inc();
      this.log.warn({ committedBlock: w.progress?.block.toString() ?? null }, 'chain-events producer reopened');
    } catch (err) {
      this.log.error({ err }, 'reopening the chain-events producer failed; trying again');
    }
  }

  private sleep(ms: number, signal: AbortSignal, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.wakeUp = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One block range. Resolves true when more confirmed blocks are waiting. */
  async pollOnce(): Promise<boolean> {
    const head = await this.rpc('eth_blockNumber', () => this.client.getBlockNumber({ cacheTime: 0 }));
    this.metrics.headBlock.set(Number(head));
    if (this.state === 'starting') this.state = 'following';
    const confirmed = head - BigInt(this.settings.confirmations) + 1n;
    const last = this.progress;
    if (last !== undefined) {
      // The committed block must still be canonical: else a reorg went deeper than the depth.
      const b = await this.rpc('eth_getBlockByNumber', () => this.client.getBlock({ blockNumber: last.block }));
      if (b.hash !== last.hash) {
        throw new WatcherError('CHAIN_REORG_BELOW_DEPTH', `block ${last.block} was ${last.hash} when committed, is ${b.hash} now (confirmation depth ${this.settings.confirmations})`);
      }
    }
    const from = last === undefined ? this.settings.startBlock : last.block + 1n;
    this.metrics.lagBlocks.set(Number(head - (last?.block ?? from - 1n)));
    if (from > confirmed) {
      this.head = head;
      return false;
    }
    let to = from + BigInt(this.range) - 1n;
    if (to > confirmed) to = confirmed;

    // Raw logs, decoded here: a log of the contract that does not decode as its ABI halts the watcher
    // (viem's own decoding would drop it silently, and a dropped deposit is a lost one).
    let logs;
    try {
      logs = await this.rpc('eth_getLogs', () => this.client.getLogs({ address: this.settings.settlement, fromBlock: from, toBlock: to }));
    } catch (err) {
      // Providers cap a response (results, size, time): a smaller range next time; it grows back after a commit.
      this.range = Math.max(1, Math.floor(this.range / 2));
      this.metrics.rangeRetries.inc({ reason: 'getLogs' });
      throw err;
    }
    // One chain: the range's first block follows the committed one, each log's block is canonical, and the
    // last block is the one whose hash we commit.
    const numbers = [...new Set([from, to, ...logs.map((l) => l.blockNumber)])];
    const headers = new Map<bigint, { hash: Hex; parentHash: Hex; timestamp: bigint }>();
    for (let i = 0; i < numbers.length; i += RPC_CONCURRENCY) {
      const chunk = numbers.slice(i, i + RPC_CONCURRENCY);
      const blocks = await Promise.all(chunk.map((n) => this.rpc('eth_getBlockByNumber', () => this.client.getBlock({ blockNumber: n }))));
      blocks.forEach((b, j) => headers.set(chunk[j]!, { hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp }));
    }
    if (last !== undefined && headers.get(from)!.parentHash !== last.hash) {
      this.metrics.rangeRetries.inc({ reason: 'parent' });
      throw new Error(`block ${from}'s parent is not the committed block ${last.block}`);
    }
    for (const l of logs) {
      const h = headers.get(l.blockNumber)!;
      if (h.hash !== l.blockHash) {
        this.metrics.rangeRetries.inc({ reason: 'log-block' });
        throw new Error(`a log of block ${l.blockNumber} names block ${l.blockHash}, the chain has ${h.hash}`);
      }
    }
    const end = headers.get(to)!;
    const ordered: ContractLog[] = logs
      .map((l) => {
        let decoded;
        try {
          decoded = decodeEventLog({ abi: settlementAbi, data: l.data, topics: l.topics, strict: true });
        } catch (err) {
          const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
          throw new WatcherError('MALFORMED_LOG', `log ${l.logIndex} of block ${l.blockNumber} does not decode as the settlement contract's: ${why}`);
        }
        return { eventName: decoded.eventName, args: decoded.args, blockNumber: l.blockNumber, logIndex: l.logIndex, transactionHash: l.transactionHash };
      })
      .sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));

    // The withdrawal requests pending just before the range, for every (trader, token) with a withdrawal log.
    const pendingBefore = new Map<string, bigint>();
    for (const l of ordered) {
      if (!l.eventName.startsWith('Withdrawal')) continue;
      const trader = l.args.trader as Address;
      const token = l.args.token as Address;
      const key = pairKey(trader, token);
      if (pendingBefore.has(key)) continue;
      const [amount] = await this.rpc('eth_call', () =>
        this.client.readContract({ address: this.settings.settlement, abi: settlementAbi, functionName: 'pendingWithdrawal', args: [trader, token], blockNumber: from - 1n }),
      );
      pendingBefore.set(key, amount);
    }
    // The batches that skipped fills: the event names indexes into the settleBatch calldata.
    const skippedBatches = new Map<string, DecodedBatch>();
    for (const l of ordered) {
      if (l.eventName !== 'FillsSkipped' || l.transactionHash === undefined || skippedBatches.has(l.transactionHash)) continue;
      const hash = l.transactionHash;
      const tx = await this.rpc('eth_getTransactionByHash', () => this.client.getTransaction({ hash }));
      try {
        const call = decodeFunctionData({ abi: settlementAbi, data: tx.input });
        if (tx.to?.toLowerCase() !== this.settings.settlement.toLowerCase() || call.functionName !== 'settleBatch') throw new Error('not a direct settleBatch call');
        skippedBatches.set(hash, decodeBatch(call.args[1]));
      } catch (err) {
        this.log.error({ err, transaction: hash }, 'the fills this batch skipped cannot be attributed (calldata not readable): counted, not mapped');
      }
    }
    const blockTimes = new Map([...headers].map(([n, h]) => [n, h.timestamp] as const));
    let mapped;
    try {
      mapped = mapLogs(ordered, blockTimes, pendingBefore, Date.now(), skippedBatches);
    } catch (err) {
      // A log of the contract this build cannot read: going on would skip it. Stop loudly instead.
      throw new WatcherError('MALFORMED_LOG', err instanceof Error ? err.message : String(err));
    }

    const next: Progress = { chainId: this.settings.chainId, settlement: this.settings.settlement.toLowerCase() as Address, block: to, hash: end.hash };
    const messages = this.batches(mapped.events);
    await this.producer.transaction((tx) => {
      if (messages.length > 0) tx.send(this.settings.chainEventsTopic, messages);
      tx.send(this.settings.progressTopic, [{ key: progressKey(next.chainId, next.settlement), value: encodeProgress(next), partition: 0 }]);
    });
    this.progress = next;
    for (const e of mapped.events) {
      this.metrics.events.inc({ kind: e.type });
      this.ledger.apply(e);
    }
    this.metrics.fillsSettled.inc(mapped.settledFills);
    if (mapped.skippedFills > 0) {
      this.metrics.fillsSkipped.inc(mapped.skippedFills);
      if (mapped.unattributedSkips > 0) this.metrics.fillsSkippedUnattributed.inc(mapped.unattributedSkips);
      this.log.error({ fromBlock: from.toString(), toBlock: to.toString(), skipped: mapped.skippedFills }, 'the contract skipped fills for lack of funds');
    }
    this.range = Math.min(this.settings.blockRange, this.range * 2);
    this.metrics.confirmedBlock.set(Number(to));
    this.metrics.lagBlocks.set(Number(head - to));
    if (mapped.events.length > 0) this.log.info({ fromBlock: from.toString(), toBlock: to.toString(), events: mapped.events.length }, 'chain events committed');
    if (this.settings.reconcile && mapped.touched.size > 0) await this.reconcilePairs(mapped.touched, to);
    this.head = head;
    return to < confirmed;
  }

  /** Compares every pair the ledger knows with the contract at the committed block. */
  async reconcileAll(): Promise<void> {
    const p = this.progress;
    if (p === undefined) return;
    await this.reconcilePairs(this.ledger.pairs(), p.block);
  }

  private async reconcilePairs(pairs: Iterable<string>, block: bigint): Promise<void> {
    const list = [...pairs];
    const { drifts } = await reconcile(this.ledger, list, RPC_CONCURRENCY, (account, token) =>
      this.rpc('eth_call', () =>
        this.client.readContract({ address: this.settings.settlement, abi: settlementAbi, functionName: 'balanceOf', args: [token as Address, account as Address], blockNumber: block }),
      ),
    );
    const drifting = new Set(drifts.map((d) => pairKey(d.account, d.token)));
    this.metrics.reconciliations.inc({ result: 'match' }, list.length - drifts.length);
    if (drifts.length > 0) this.metrics.reconciliations.inc({ result: 'drift' }, drifts.length);
    const tokens = new Set<string>();
    for (const key of list) {
      const [account, token] = key.split(':') as [string, string];
      tokens.add(token);
      let m = this.drifts.get(token);
      if (m === undefined) this.drifts.set(token, (m = new Map<string, bigint>()));
      if (!drifting.has(key)) m.delete(account);
    }
    for (const d of drifts) {
      this.drifts.get(d.token)?.set(d.account, d.drift);
      this.log.error({ account: d.account, token: d.token, drift: d.drift.toString(), block: block.toString() }, 'reconciliation drift: ledger and contract disagree');
    }
    for (const token of tokens) {
      const m = this.drifts.get(token) ?? new Map<string, bigint>();
      let worst = 0n;
      for (const v of m.values()) if ((v < 0n ? -v : v) > (worst < 0n ? -worst : worst)) worst = v;
      this.metrics.drift.set({ token }, Number(worst));
      this.metrics.driftingAccounts.set({ token }, m.size);
    }
  }

  /** Per account shard, in log order, messages of at most EVENTS_PER_MESSAGE events. */
  private batches(events: readonly ChainEvent[]): OutgoingMessage[] {
    const perShard = new Map<number, ChainEvent[]>();
    for (const e of events) {
      const shard = shardForAccount(e.account, this.settings.shards);
      let list = perShard.get(shard);
      if (list === undefined) perShard.set(shard, (list = []));
      list.push(e);
    }
    const out: OutgoingMessage[] = [];
    const sentAtMs = Date.now();
    for (const [shard, list] of perShard) {
      for (let i = 0; i < list.length; i += EVENTS_PER_MESSAGE) {
        const chunk = list.slice(i, i + EVENTS_PER_MESSAGE);
        out.push({ key: chunk[0]!.account, partition: shard, value: encodeChainEventBatch({ sentAtMs, events: chunk }) });
      }
    }
    return out;
  }

  private halt(reason: string, message: string): void {
    this.state = 'halted';
    this.haltReason = message;
    this.metrics.halted.set({ reason }, 1);
    this.log.error({ reason }, `chain watcher halted: ${message}`);
  }

  private async rpc<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.metrics.rpcErrors.inc({ operation });
      throw err;
    }
  }
}
