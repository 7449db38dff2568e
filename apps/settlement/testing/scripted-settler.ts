// An in-memory chain behind the loop's SettlerPort, for tests of the settlement state machine. It models what
// the loop relies on and nothing else: the contract's lastBatchId (strictly sequential, a settled id cannot be
// settled again), mined batches with their block, one operator nonce, a journal entry before every broadcast,
// and blocks that can be lost. Simulation and mining outcomes are scripted by the test; nothing is verified.
import {
  encodeBatch,
  settleBatchCalldata,
  type BatchFill,
  type BatchInput,
  type BroadcastOptions,
  type BroadcastRecord,
  type ExcludedFill,
  type MinedBatch,
  type PreparedBatch,
  type SettlerJournal,
  type SignedOrder,
} from '@parallax/chain';
import type { Hex } from 'viem';
import type { SettlerPort } from '../settle/settlement.loop.js';

/** What the scripted simulation blames a fill for (the contract error name), or undefined to keep it. */
export type ExclusionRule = (fill: BatchFill, buy: SignedOrder, sell: SignedOrder) => string | undefined;

/**
 * How the next broadcast ends: mined successfully, mined but reverted, or mined successfully while the caller
 * never hears of it (the process dies after the send: the journal has it, the database has no receipt).
 */
export type BroadcastOutcome = 'success' | 'reverted' | 'crash-after-mining';

export interface ChainBatch {
  readonly id: bigint;
  readonly hash: Hex;
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  readonly status: 'success';
  /** settleBatch's batch bytes as mined. */
  readonly data: Hex;
  /** Mined from another sender of the operator key (not through broadcast()). */
  readonly foreign: boolean;
}

/** Every transaction the chain saw, in order (reverted ones included). */
export interface ChainTx {
  readonly batchId: bigint;
  readonly hash: Hex;
  readonly nonce: number;
  readonly status: 'success' | 'reverted';
  readonly blockNumber: bigint;
  readonly data: Hex;
  /** A re-send of a journaled transaction (same hash), not a new one. */
  readonly resent: boolean;
}

export interface PrepareCall {
  readonly batchId: bigint;
  readonly fills: number;
}

const hex32 = (tag: number, n: number): Hex => `0x${tag.toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}`;
const GAS_PER_FILL = 50_000n;
const GAS_BASE = 100_000n;

export class ScriptedSettler implements SettlerPort {
  /** The contract's lastBatchId. */
  lastId = 0n;
  /** Batches settled on the canonical chain, by id. */
  readonly batches = new Map<bigint, ChainBatch>();
  readonly txs: ChainTx[] = [];
  readonly prepareCalls: PrepareCall[] = [];
  /** broadcast() calls (whether or not they sent anything). */
  broadcastCalls = 0;
  /** Blocks a mined batch needs on top of its own to be confirmed (1 = confirmed in its own block). */
  confirmations = 1;
  head = 0n;
  private nonce = 0;
  private hashes = 0;
  private readonly prepareScript: ExclusionRule[] = [];
  private readonly broadcastScript: BroadcastOutcome[] = [];
  private readonly skips = new Map<bigint, readonly number[]>();

  /** The next prepare() excludes what `rule` blames; later ones use the next rule, then keep everything. */
  scriptPrepare(rule: ExclusionRule): void {
    this.prepareScript.push(rule);
  }

  /** Drops the prepare() rules not used yet: later simulations keep everything. */
  clearPrepareScript(): void {
    this.prepareScript.length = 0;
  }

  /** Batch `batchId`, once mined, reports these encoded fill indexes as skipped (FillsSkipped: underfunded). */
  scriptSkipped(batchId: bigint, fills: readonly number[]): void {
    this.skips.set(batchId, fills);
  }

  /** The next broadcast() ends with `outcome`; unscripted ones succeed. */
  scriptBroadcast(outcome: BroadcastOutcome): void {
    this.broadcastScript.push(outcome);
  }

  /** The node loses every block after the one that settled `batchId` (a deep reorg or a restored node). */
  loseBatchesAfter(batchId: bigint): void {
    for (const id of [...this.batches.keys()]) if (id > batchId) this.batches.delete(id);
    this.lastId = batchId;
  }

  /**
   * Someone else with the operator key settles `batchId` with `data` (another process, a leaked key): the
   * contract accepts it as the next batch and the operator's nonce moves on.
   */
  settleForeign(batchId: bigint, data: Hex): ChainBatch {
    if (batchId !== this.lastId + 1n) throw new Error(`the contract would revert a foreign batch ${batchId} (next is ${this.lastId + 1n})`);
    this.head++;
    const b: ChainBatch = { id: batchId, hash: hex32(0xf0, ++this.hashes), blockNumber: this.head, blockHash: hex32(0xb1, ++this.hashes), status: 'success', data, foreign: true };
    this.batches.set(batchId, b);
    this.lastId = batchId;
    this.nonce++;
    return b;
  }

  /** New blocks on top (confirmations for mined batches). */
  mineEmptyBlocks(n: number): void {
    this.head += BigInt(n);
  }

  lastBatchId(): Promise<bigint> {
    return Promise.resolve(this.lastId);
  }

  prepare(batchId: bigint, input: BatchInput): Promise<PreparedBatch> {
    this.prepareCalls.push({ batchId, fills: input.fills.length });
    // The real settler's simulation reverts with BatchOutOfOrder / BatchAlreadySettled here.
    if (batchId !== this.lastId + 1n) return Promise.reject(new Error(`BATCH_OUT_OF_ORDER: batch ${batchId} is not ${this.lastId + 1n}`));
    const rule = this.prepareScript.shift();
    const kept: number[] = [];
    const excluded: ExcludedFill[] = [];
    input.fills.forEach((f, i) => {
      const reason = rule?.(f, input.orders[f.buyOrder]!, input.orders[f.sellOrder]!);
      if (reason === undefined) kept.push(i);
      else excluded.push({ fill: i, reason, detail: `scripted: fill ${i} ${reason}` });
    });
    if (kept.length === 0) return Promise.resolve({ kind: 'empty', batchId, excluded });
    const encoded = encodeBatch(subBatch(input, kept));
    const gasLimit = GAS_BASE + GAS_PER_FILL * BigInt(kept.length);
    return Promise.resolve({ kind: 'ready', batchId, encoded, gasLimit, kept, excluded, deferred: [] });
  }

  /** Like BatchSettler.broadcast: a journaled tx that is mined is returned; the last one is re-sent as it was. */
  async broadcast(batchId: bigint, data: Hex, gasLimit: bigint, journal: SettlerJournal, options: BroadcastOptions = {}): Promise<MinedBatch> {
    this.broadcastCalls++;
    const previous = options.previous ?? [];
    const onChain = this.batches.get(batchId);
    if (onChain !== undefined && previous.some((p) => p.hash === onChain.hash)) return minedOf(onChain);
    const last = previous.at(-1);
    let record: BroadcastRecord;
    if (last !== undefined) {
      record = last; // same nonce, fees and hash: no new journal entry
    } else {
      record = { hash: hex32(0x7a, ++this.hashes), nonce: this.nonce, gasLimit, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, sentAtMs: Date.now() };
      await journal.beforeBroadcast(batchId, record);
    }
    const outcome = this.broadcastScript.shift() ?? 'success';
    // The contract reverts a batch that is not lastBatchId + 1, whatever the script says.
    const reverts = outcome === 'reverted' || batchId !== this.lastId + 1n;
    this.head++;
    const blockNumber = this.head;
    const blockHash = hex32(0xb1, ++this.hashes);
    this.nonce = Math.max(this.nonce, record.nonce + 1);
    this.txs.push({ batchId, hash: record.hash, nonce: record.nonce, status: reverts ? 'reverted' : 'success', blockNumber, data, resent: last !== undefined });
    if (reverts) {
      return { batchId, hash: record.hash, blockNumber, blockHash, gasUsed: 30_000n, effectiveGasPrice: 1_500_000_000n, status: 'reverted' };
    }
    const mined: ChainBatch = { id: batchId, hash: record.hash, blockNumber, blockHash, status: 'success', data, foreign: false };
    this.batches.set(batchId, mined);
    this.lastId = batchId;
    if (outcome === 'crash-after-mining') throw new Error('scripted crash after the transaction was mined');
    return minedOf(mined);
  }

  checkConfirmation(mined: MinedBatch): Promise<'confirmed' | 'pending' | 'dropped'> {
    const b = this.batches.get(mined.batchId);
    if (b?.hash !== mined.hash || b.blockHash !== mined.blockHash) return Promise.resolve('dropped');
    return Promise.resolve(this.head >= b.blockNumber + BigInt(this.confirmations) - 1n ? 'confirmed' : 'pending');
  }

  skippedFills(mined: MinedBatch): Promise<number[]> {
    return Promise.resolve([...(this.skips.get(mined.batchId) ?? [])]);
  }

  /** Like BatchSettler.findSettled: the settlement with the mined transaction's input. */
  findSettled(batchId: bigint): Promise<MinedBatch | undefined> {
    const b = this.batches.get(batchId);
    return Promise.resolve(b === undefined ? undefined : { ...minedOf(b), input: settleBatchCalldata(b.id, b.data) });
  }
}

function minedOf(b: ChainBatch): MinedBatch {
  const gasUsed = 80_000n;
  return { batchId: b.id, hash: b.hash, blockNumber: b.blockNumber, blockHash: b.blockHash, gasUsed, effectiveGasPrice: 1_500_000_000n, status: 'success' };
}

/** The input restricted to the kept fills, with only the orders they use (encodeBatch refuses unused orders). */
function subBatch(input: BatchInput, kept: readonly number[]): BatchInput {
  const orders: SignedOrder[] = [];
  const position = new Map<number, number>();
  const remap = (i: number): number => {
    let p = position.get(i);
    if (p === undefined) {
      p = orders.length;
      orders.push(input.orders[i]!);
      position.set(i, p);
    }
    return p;
  };
  const fills = kept.map((k) => {
    const f = input.fills[k]!;
    return { ...f, buyOrder: remap(f.buyOrder), sellOrder: remap(f.sellOrder) };
  });
  return { domain: input.domain, orders, fills };
}
