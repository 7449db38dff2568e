import {
  BaseError,
  ContractFunctionRevertedError,
  ExecutionRevertedError,
  NonceTooLowError,
  RawContractError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  encodeFunctionData,
  keccak256,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { encodeBatch, type BatchFill, type BatchInput, type EncodedBatch } from '../batch.js';
import { skippedFillsOf, type Reader, type Signer } from '../client.js';
import { MAX_TX_GAS } from '../constants.js';
import { ChainError, decodeContractRevert, type ContractRevert } from '../errors.js';
import { settlementAbi } from '../generated/contracts.js';
import type { SignedOrder } from '../order.js';
import { settlerConfig, type SettlerConfig } from './config.js';
import { bumpFees, gasWithMargin, initialFees, type Fees } from './fees.js';
import { retryTransient, sleep } from './rpc.js';

export interface ExcludedFill {
  /** Index into the INPUT fills. */
  readonly fill: number;
  /** Contract error name ('InvalidSignature', 'Overfill', ...), 'UNDECODABLE_REVERT', or a ChainError code of the encoder. */
  readonly reason: string;
  readonly detail: string;
}

export type PreparedBatch =
  | {
      readonly kind: 'ready';
      readonly batchId: bigint;
      readonly encoded: EncodedBatch;
      readonly gasLimit: bigint;
      /** Input fill indexes in `encoded`, ascending (encoded fill i is input fill kept[i]). */
      readonly kept: readonly number[];
      readonly excluded: readonly ExcludedFill[];
      /** Input fill indexes left out without blame (bisection or gas cap): still PENDING for a later batch. */
      readonly deferred: readonly number[];
    }
  | { readonly kind: 'empty'; readonly batchId: bigint; readonly excluded: readonly ExcludedFill[] };

export interface BroadcastRecord {
  readonly hash: Hex;
  readonly nonce: number;
  readonly gasLimit: bigint;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  readonly sentAtMs: number;
}

export interface MinedBatch {
  readonly batchId: bigint;
  readonly hash: Hex;
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  readonly gasUsed: bigint;
  readonly effectiveGasPrice: bigint;
  readonly status: 'success' | 'reverted';
  /**
   * The mined transaction's full input (settleBatch calldata), when it was looked up from the chain
   * (findSettled); absent for a receipt of a hash we signed ourselves.
   */
  readonly input?: Hex;
}

/** settleBatch(batchId, data) as a transaction's input: what a batch of ours looks like on chain. */
export function settleBatchCalldata(batchId: bigint, data: Hex): Hex {
  return encodeFunctionData({ abi: settlementAbi, functionName: 'settleBatch', args: [batchId, data] });
}

export interface SettlerJournal {
  /** Called and awaited (durable when it resolves) BEFORE each transaction is broadcast, replacements included. */
  beforeBroadcast(batchId: bigint, tx: BroadcastRecord): Promise<void>;
}

export type SettlerLog = (event: string, fields: Record<string, unknown>) => void;

export interface BroadcastOptions {
  /** Broadcasts of this batch from before a restart (from the journal): checked for receipts, the last one re-sent. */
  readonly previous?: readonly BroadcastRecord[];
  readonly signal?: AbortSignal;
}

/** Argument names of the contract's custom errors: which ones blame a fill, which an order. */
const errorInputs = new Map<string, readonly string[]>(
  settlementAbi.flatMap((item) => (item.type === 'error' ? [[item.name, item.inputs.map((i) => i.name)] as const] : [])),
);

type SendOutcome = 'sent' | 'known' | 'underpriced' | 'nonce-too-low';

interface InFlight {
  readonly nonce: number;
  readonly gasLimit: bigint;
  readonly fees: Fees;
  readonly hash: Hex;
  readonly raw: Hex;
}

/**
 * The chain side of batch settlement: simulate and trim a batch, broadcast it with an explicit nonce and fees
 * (replacing it while it is stuck), follow it to a confirmation depth, and find settled batches after a restart.
 * Keeps no state between calls: everything the caller needs to resume is handed to the journal.
 * The operator must sign locally (or its node must support eth_signTransaction): a broadcast is journaled
 * with its hash before it is sent.
 */
export class BatchSettler {
  readonly config: SettlerConfig;
  private readonly reader: Reader;
  private readonly operator: Signer;
  private readonly log: SettlerLog;
  /** Cleared the first time the node says it has no eth_createAccessList. */
  private accessListGas = true;

  constructor(
    clients: { readonly reader: Reader; readonly operator: Signer },
    readonly settlement: Address,
    config: Partial<SettlerConfig> = {},
    log: SettlerLog = () => undefined,
  ) {
    this.reader = clients.reader;
    this.operator = clients.operator;
    this.config = settlerConfig(config);
    this.log = log;
  }

  /** The contract's lastBatchId(), retried through RPC outages. */
  async lastBatchId(signal?: AbortSignal): Promise<bigint> {
    return this.rpc('lastBatchId', signal, () =>
      this.reader.readContract({ address: this.settlement, abi: settlementAbi, functionName: 'lastBatchId' }),
    );
  }

  /**
   * Simulates settleBatch(batchId, encodeBatch(input)) from the operator and drops what the contract blames
   * (a fill, or every fill of a blamed order) until it passes; an unattributable revert bisects (the second half
   * is deferred, not excluded). Then estimates gas (+ margin); over MAX_TX_GAS the second half is deferred too.
   * Throws BATCH_OUT_OF_ORDER when batchId is not the contract's next id, NOT_OPERATOR for a wrong signer.
   */
  async prepare(batchId: bigint, input: BatchInput, signal?: AbortSignal): Promise<PreparedBatch> {
    let kept = input.fills.map((_, i) => i);
    let deferred: number[] = [];
    const excluded: ExcludedFill[] = [];
    const exclude = (fills: readonly number[], reason: string, detail: string): void => {
      const drop = new Set(fills);
      kept = kept.filter((f) => !drop.has(f));
      for (const fill of fills) excluded.push({ fill, reason, detail });
    };
    const defer = (): void => {
      const half = Math.ceil(kept.length / 2);
      deferred = [...kept.slice(half), ...deferred].sort((a, b) => a - b);
      kept = kept.slice(0, half);
    };

    for (;;) {
      signal?.throwIfAborted();
      if (kept.length === 0) {
        if (deferred.length === 0) {
          this.log('settler.prepare.empty', { batchId, excluded: excluded.length });
          return { kind: 'empty', batchId, excluded };
        }
        // Everything tried so far was excluded: give the deferred fills their turn in this batch.
        kept = deferred;
        deferred = [];
      }
      const sub = subBatch(input, kept);
      let encoded: EncodedBatch;
      try {
        encoded = encodeBatch(sub.input);
      } catch (err) {
        const bad = offlineInvalidFills(input, kept);
        if (bad.length === 0) throw err;
        for (const b of bad) exclude([b.fill], b.reason, b.detail);
        continue;
      }

      const trial = await this.trial(batchId, encoded.data, signal);
      if (trial.kind === 'ok') {
        if (trial.gas > MAX_TX_GAS) {
          if (kept.length > 1) {
            this.log('settler.prepare.over_gas_cap', { batchId, fills: kept.length, estimate: trial.gas });
            defer();
            continue;
          }
          exclude(kept, 'EXCEEDS_MAX_TX_GAS', `estimate ${trial.gas} > ${MAX_TX_GAS}`);
          continue;
        }
        const gasLimit = minBig(gasWithMargin(trial.gas, this.config.gasMarginPercent), MAX_TX_GAS);
        this.log('settler.prepare.ready', { batchId, fills: kept.length, excluded: excluded.length, deferred: deferred.length, gasLimit });
        return { kind: 'ready', batchId, encoded, gasLimit, kept, excluded, deferred };
      }

      const revert = trial.revert;
      const name = revert?.name;
      const detail = revert === undefined ? errorText(trial.error) : describeRevert(revert);
      if (name === 'BatchOutOfOrder' || name === 'BatchAlreadySettled') {
        throw new ChainError('BATCH_OUT_OF_ORDER', `batch ${batchId}: ${detail}; reconcile with lastBatchId/findSettled first`);
      }
      if (name === 'NotOperator') {
        throw new ChainError('NOT_OPERATOR', `${this.operator.account.address} is not the operator of ${this.settlement}`);
      }
      const blamed = revert === undefined ? undefined : blamedFills(revert, encoded, sub, kept);
      if (blamed !== undefined && blamed.length > 0) {
        this.log('settler.prepare.exclude', { batchId, reason: name, fills: blamed });
        exclude(blamed, revert!.name, detail);
        continue;
      }
      if (kept.length > 1) {
        this.log('settler.prepare.bisect', { batchId, fills: kept.length, reason: name ?? 'UNDECODABLE_REVERT' });
        defer();
        continue;
      }
      exclude(kept, name ?? 'UNDECODABLE_REVERT', detail);
    }
  }

  /**
   * Broadcasts settleBatch(batchId, data) and waits until one of the batch's transactions is mined (success or
   * reverted). Every broadcast, replacements included, is journaled before it is sent. A stuck transaction is
   * replaced (same nonce, fees +feeBumpPercent) every replaceAfterMs; one the node lost (restart) is re-sent as
   * it was; a nonce taken by someone else's transaction means: adopt findSettled(batchId), else a fresh nonce.
   */
  async broadcast(batchId: bigint, data: Hex, gasLimit: bigint, journal: SettlerJournal, options: BroadcastOptions = {}): Promise<MinedBatch> {
    const { signal } = options;
    const calldata = settleBatchCalldata(batchId, data);
    const ours: BroadcastRecord[] = [...(options.previous ?? [])];

    let current: InFlight;
    let outcome: SendOutcome;
    const last = ours.at(-1);
    if (last !== undefined) {
      const mined = await this.receiptOf(batchId, ours, signal);
      if (mined !== undefined) return mined;
      // Re-send the last broadcast as it was (a deterministic signature gives the same hash): the node may have lost it.
      const fees = { maxFeePerGas: last.maxFeePerGas, maxPriorityFeePerGas: last.maxPriorityFeePerGas };
      ({ current, outcome } = await this.transmit(batchId, calldata, last.nonce, last.gasLimit, fees, ours, journal, signal));
    } else {
      ({ current, outcome } = await this.sendFresh(batchId, calldata, gasLimit, ours, journal, signal));
    }
    let lastSentMs = Date.now();

    for (;;) {
      if (outcome === 'nonce-too-low') {
        const adopted = await this.nonceTaken(batchId, calldata, ours, signal);
        if (adopted !== undefined) return adopted;
        ({ current, outcome } = await this.sendFresh(batchId, calldata, gasLimit, ours, journal, signal));
        lastSentMs = Date.now();
        continue;
      }
      await sleep(this.config.pollIntervalMs, signal);
      const mined = await this.receiptOf(batchId, ours, signal);
      if (mined !== undefined) return mined;
      if (Date.now() - lastSentMs < this.config.replaceAfterMs) continue;

      const confirmedNonce = await this.rpc('getTransactionCount', signal, () =>
        this.reader.getTransactionCount({ address: this.operator.account.address, blockTag: 'latest' }),
      );
      if (confirmedNonce > current.nonce) {
        outcome = 'nonce-too-low';
        continue;
      }
      lastSentMs = Date.now();
      if (!(await this.isKnown(current.hash, signal))) {
        this.log('settler.broadcast.resend_lost', { batchId, hash: current.hash, nonce: current.nonce });
        outcome = await this.sendRaw(current.raw, signal);
        continue;
      }
      const baseFee = await this.baseFee(signal);
      const bumped = bumpFees(current.fees, this.config.feeBumpPercent, baseFee, this.config.maxFeePerGasCap);
      if (bumped === undefined) {
        this.log('settler.broadcast.fee_cap_reached', { batchId, hash: current.hash, maxFeePerGas: current.fees.maxFeePerGas });
        continue;
      }
      const replacement = await this.transmit(batchId, calldata, current.nonce, current.gasLimit, bumped, ours, journal, signal);
      this.log('settler.broadcast.replaced', { batchId, old: current.hash, hash: replacement.current.hash, outcome: replacement.outcome, ...bumped });
      outcome = replacement.outcome;
      // An underpriced replacement was refused: the previous transaction is still the live one.
      if (outcome !== 'underpriced') current = replacement.current;
      else outcome = 'sent';
    }
  }

  /**
   * 'confirmed' once the receipt is `confirmations` deep and still at mined.blockHash in the canonical chain;
   * 'pending' while shallower; 'dropped' when the transaction left that block (reorg, node lost blocks):
   * check findSettled, then re-send under the same id.
   */
  async checkConfirmation(mined: MinedBatch, signal?: AbortSignal): Promise<'confirmed' | 'pending' | 'dropped'> {
    const receipt = await this.receipt(mined.hash, signal);
    if (receipt?.blockHash !== mined.blockHash) return 'dropped';
    const head = await this.rpc('getBlockNumber', signal, () => this.reader.getBlockNumber({ cacheTime: 0 }));
    if (head < receipt.blockNumber + BigInt(this.config.confirmations) - 1n) return 'pending';
    const block = await this.rpc('getBlock', signal, () => this.reader.getBlock({ blockNumber: receipt.blockNumber }));
    return block.hash === mined.blockHash ? 'confirmed' : 'dropped';
  }

  /**
   * Indexes (into the batch's encoded fills) of the fills a mined batch skipped because a trader lacked the
   * funds (its FillsSkipped log), [] for none. The contract no longer reverts a batch for an underfunded fill,
   * so the caller learns of them here, from the receipt, and fails them (reason FillUnderfunded) rather than
   * trimming them by simulation (the funds can change between simulation and mining anyway).
   */
  async skippedFills(mined: MinedBatch, signal?: AbortSignal): Promise<number[]> {
    const receipt = await this.receipt(mined.hash, signal);
    if (receipt === undefined) throw new ChainError('TX_REVERTED', `batch ${mined.batchId}: no receipt for ${mined.hash} to read skipped fills from`);
    return skippedFillsOf(receipt, this.settlement);
  }

  /**
   * The settlement of batchId on chain (its BatchSettled log, transaction receipt and the transaction's input),
   * or undefined. Whose it is, is the caller's question: compare `input` with settleBatchCalldata.
   */
  async findSettled(batchId: bigint, signal?: AbortSignal): Promise<MinedBatch | undefined> {
    const logs = await this.rpc('getLogs', signal, () =>
      this.reader.getContractEvents({
        address: this.settlement,
        abi: settlementAbi,
        eventName: 'BatchSettled',
        args: { batchId },
        fromBlock: this.config.logsFromBlock,
        toBlock: 'latest',
      }),
    );
    const log = logs.filter((l) => !l.removed).at(-1);
    if (log === undefined) return undefined;
    const receipt = await this.receipt(log.transactionHash, signal);
    if (receipt === undefined) return undefined;
    const tx = await this.rpc('getTransaction', signal, () => this.reader.getTransaction({ hash: log.transactionHash }));
    return { ...minedOf(batchId, receipt), input: tx.input };
  }

  // --- simulation -------------------------------------------------------------------------------------------

  private async trial(
    batchId: bigint,
    data: Hex,
    signal: AbortSignal | undefined,
  ): Promise<{ kind: 'ok'; gas: bigint } | { kind: 'revert'; revert: ContractRevert | undefined; error: unknown }> {
    const request = {
      address: this.settlement,
      abi: settlementAbi,
      functionName: 'settleBatch',
      args: [batchId, data],
      // The address, not the account: a local account would make viem fetch a nonce and fees for nothing.
      account: this.operator.account.address,
    } as const;
    // Measuring the gas executes the batch already; a passing batch (the common case) needs nothing else. Only
    // when the measurement fails is the batch simulated with eth_call, which yields the contract's decoded error.
    let gasError: unknown;
    try {
      return { kind: 'ok', gas: await this.measureGas(request, signal) };
    } catch (err) {
      gasError = err;
    }
    try {
      await this.rpc('simulate', signal, () => this.reader.simulateContract(request));
    } catch (err) {
      if (!isRevert(err)) throw err;
      return { kind: 'revert', revert: decodeContractRevert(err), error: err };
    }
    // It runs as a call but the node would not measure it: beyond its block gas limit ("gas required exceeds
    // allowance", "out of gas") is the same as over the cap. Any other failure is not the batch's fault.
    if (/exceeds allowance|out of gas|exceeds block gas limit/i.test(errorText(gasError))) return { kind: 'ok', gas: MAX_TX_GAS + 1n };
    if (isRevert(gasError)) return { kind: 'revert', revert: decodeContractRevert(gasError), error: gasError };
    throw gasError;
  }

  /**
   * Gas of the call. eth_createAccessList executes it about twice and reports gasUsed; eth_estimateGas
   * binary-searches the limit, executing a batch of hundreds of signature checks a dozen times or more (on
   * anvil that was 36-52% of the settlement service's time). The access-list figure prices the touched
   * accounts and slots as pre-declared (up to ~200 gas cheaper each than cold), which the margin covers.
   * Nodes without the method fall back to estimateGas.
   */
  private async measureGas(
    request: { readonly address: Address; readonly args: readonly [bigint, Hex]; readonly account: Address },
    signal: AbortSignal | undefined,
  ): Promise<bigint> {
    if (this.accessListGas) {
      try {
        const data = encodeFunctionData({ abi: settlementAbi, functionName: 'settleBatch', args: request.args });
        const { gasUsed } = await this.rpc('createAccessList', signal, () =>
          this.reader.createAccessList({ account: request.account, to: request.address, data }),
        );
        return gasUsed;
      } catch (err) {
        if (isRevert(err)) throw err;
        if (!/not (found|supported|available)|does not exist|unknown method|-32601/i.test(errorText(err))) throw err;
        this.accessListGas = false;
        this.log('settler.gas.access_list_unsupported', { error: errorText(err).slice(0, 200) });
      }
    }
    return this.rpc('estimateGas', signal, () =>
      this.reader.estimateContractGas({ address: request.address, abi: settlementAbi, functionName: 'settleBatch', args: request.args, account: request.account }),
    );
  }

  // --- broadcasting -----------------------------------------------------------------------------------------

  private async sendFresh(
    batchId: bigint,
    calldata: Hex,
    gasLimit: bigint,
    ours: BroadcastRecord[],
    journal: SettlerJournal,
    signal: AbortSignal | undefined,
  ): Promise<{ current: InFlight; outcome: SendOutcome }> {
    const nonce = await this.rpc('getTransactionCount', signal, () =>
      this.reader.getTransactionCount({ address: this.operator.account.address, blockTag: 'pending' }),
    );
    const fees = initialFees(await this.baseFee(signal), this.config.priorityFeePerGas, this.config.maxFeePerGasCap);
    return this.transmit(batchId, calldata, nonce, gasLimit, fees, ours, journal, signal);
  }

  /** Signs, journals (unless this exact transaction already was) and sends one transaction. */
  private async transmit(
    batchId: bigint,
    calldata: Hex,
    nonce: number,
    gasLimit: bigint,
    fees: Fees,
    ours: BroadcastRecord[],
    journal: SettlerJournal,
    signal: AbortSignal | undefined,
  ): Promise<{ current: InFlight; outcome: SendOutcome }> {
    const raw = await this.rpc('signTransaction', signal, () =>
      this.operator.signTransaction({
        account: this.operator.account,
        chain: this.operator.chain,
        type: 'eip1559',
        to: this.settlement,
        data: calldata,
        nonce,
        gas: gasLimit,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      }),
    );
    const hash = keccak256(raw);
    if (!ours.some((r) => r.hash === hash)) {
      const record: BroadcastRecord = { hash, nonce, gasLimit, ...fees, sentAtMs: Date.now() };
      await journal.beforeBroadcast(batchId, record);
      ours.push(record);
    }
    const outcome = await this.sendRaw(raw, signal);
    this.log('settler.broadcast.sent', { batchId, hash, nonce, gasLimit, outcome, ...fees });
    return { current: { nonce, gasLimit, fees, hash, raw }, outcome };
  }

  private async sendRaw(raw: Hex, signal: AbortSignal | undefined): Promise<SendOutcome> {
    try {
      await this.rpc('sendRawTransaction', signal, () => this.reader.sendRawTransaction({ serializedTransaction: raw }));
      return 'sent';
    } catch (err) {
      const outcome = classifySendError(err);
      if (outcome === undefined) throw err;
      return outcome;
    }
  }

  /**
   * Our nonce was consumed: by one of ours (receipt), by another settlement of this batch (log), or by a
   * stranger. Another settlement of this id is adopted only if its calldata is exactly ours; anything else
   * is FOREIGN_BATCH (someone else holds the operator key or runs a second writer): never taken as ours.
   */
  private async nonceTaken(batchId: bigint, calldata: Hex, ours: readonly BroadcastRecord[], signal: AbortSignal | undefined): Promise<MinedBatch | undefined> {
    const own = await this.receiptOf(batchId, ours, signal);
    if (own !== undefined) return own;
    const settled = await this.findSettled(batchId, signal);
    if (settled === undefined) {
      this.log('settler.broadcast.nonce_taken', { batchId, nonce: ours.at(-1)?.nonce });
      return undefined;
    }
    if (settled.input?.toLowerCase() !== calldata.toLowerCase()) {
      throw new ChainError('FOREIGN_BATCH', `batch ${batchId} was settled on chain by ${settled.hash}, whose calldata is not the batch this service sent`);
    }
    return settled;
  }

  private async receiptOf(batchId: bigint, ours: readonly BroadcastRecord[], signal: AbortSignal | undefined): Promise<MinedBatch | undefined> {
    for (const hash of new Set(ours.map((r) => r.hash))) {
      const receipt = await this.receipt(hash, signal);
      if (receipt !== undefined) return minedOf(batchId, receipt);
    }
    return undefined;
  }

  private async receipt(hash: Hex, signal: AbortSignal | undefined): Promise<TransactionReceipt | undefined> {
    try {
      return await this.rpc('getTransactionReceipt', signal, () => this.reader.getTransactionReceipt({ hash }));
    } catch (err) {
      if (err instanceof BaseError && err.walk((e) => e instanceof TransactionReceiptNotFoundError) !== null) return undefined;
      throw err;
    }
  }

  private async isKnown(hash: Hex, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.rpc('getTransaction', signal, () => this.reader.getTransaction({ hash }));
      return true;
    } catch (err) {
      if (err instanceof BaseError && err.walk((e) => e instanceof TransactionNotFoundError) !== null) return false;
      throw err;
    }
  }

  private async baseFee(signal: AbortSignal | undefined): Promise<bigint> {
    const block = await this.rpc('getBlock', signal, () => this.reader.getBlock({ blockTag: 'latest' }));
    return block.baseFeePerGas ?? 0n;
  }

  private rpc<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return retryTransient(fn, {
      initialMs: this.config.rpcRetryInitialMs,
      maxMs: this.config.rpcRetryMaxMs,
      signal,
      onRetry: (error, attempt, delayMs) => {
        this.log('settler.rpc.retry', { what, attempt, delayMs, error: errorText(error) });
      },
    });
  }
}

// --- pure helpers ---------------------------------------------------------------------------------------------

interface SubBatch {
  readonly input: BatchInput;
  /** Sub-batch order index -> input order index. */
  readonly orderOf: readonly number[];
}

/** The input restricted to the `kept` fills and the orders they use (an unused order may not be encoded). */
function subBatch(input: BatchInput, kept: readonly number[]): SubBatch {
  const orderOf: number[] = [];
  const subIndex = new Map<number, number>();
  const orders: SignedOrder[] = [];
  const indexOf = (inputOrder: number): number => {
    let i = subIndex.get(inputOrder);
    if (i === undefined) {
      const order = input.orders[inputOrder];
      if (order === undefined) throw new ChainError('INVALID_FILL', `a fill references order ${inputOrder} outside the input`);
      i = orders.length;
      subIndex.set(inputOrder, i);
      orders.push(order);
      orderOf.push(inputOrder);
    }
    return i;
  };
  const fills: BatchFill[] = kept.map((f) => {
    const fill = input.fills[f]!;
    return { ...fill, buyOrder: indexOf(fill.buyOrder), sellOrder: indexOf(fill.sellOrder) };
  });
  return { input: { domain: input.domain, orders, fills }, orderOf };
}

/** Fills the encoder itself rejects (bad amounts, rates, orders), checked one at a time. */
function offlineInvalidFills(input: BatchInput, kept: readonly number[]): ExcludedFill[] {
  const bad: ExcludedFill[] = [];
  for (const f of kept) {
    try {
      encodeBatch(subBatch(input, [f]).input);
    } catch (err) {
      if (!(err instanceof ChainError)) throw err;
      bad.push({ fill: f, reason: err.code, detail: err.message });
    }
  }
  return bad;
}

/** Input fills to drop for a revert that names a fill or an order; undefined when it names neither. */
function blamedFills(revert: ContractRevert, encoded: EncodedBatch, sub: SubBatch, kept: readonly number[]): number[] | undefined {
  const first = errorInputs.get(revert.name)?.[0];
  const index = revert.args[0];
  if (typeof index !== 'bigint') return undefined;
  if (first === 'fillIndex') {
    const fill = kept[Number(index)];
    return fill === undefined ? undefined : [fill];
  }
  if (first === 'orderIndex') {
    const subOrder = encoded.orderPosition.indexOf(Number(index));
    const inputOrder = sub.orderOf[subOrder];
    if (inputOrder === undefined) return undefined;
    return kept.filter((_, i) => {
      const fill = sub.input.fills[i]!;
      return sub.orderOf[fill.buyOrder] === inputOrder || sub.orderOf[fill.sellOrder] === inputOrder;
    });
  }
  return undefined;
}

function describeRevert(revert: ContractRevert): string {
  const names = errorInputs.get(revert.name) ?? [];
  return `${revert.name}(${revert.args.map((a, i) => `${names[i] ?? i}=${String(a)}`).join(', ')})`;
}

function isRevert(err: unknown): boolean {
  return (
    err instanceof BaseError &&
    err.walk((e) => e instanceof ContractFunctionRevertedError || e instanceof ExecutionRevertedError || e instanceof RawContractError) !== null
  );
}

function classifySendError(err: unknown): SendOutcome | undefined {
  if (err instanceof BaseError && err.walk((e) => e instanceof NonceTooLowError) !== null) return 'nonce-too-low';
  const text = errorText(err).toLowerCase();
  if (/nonce too low|nonce has already been used|oldnonce/.test(text)) return 'nonce-too-low';
  if (/already known|already imported|known transaction/.test(text)) return 'known';
  if (/underpriced/.test(text)) return 'underpriced';
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof BaseError) return `${err.shortMessage} ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}

function minedOf(batchId: bigint, receipt: TransactionReceipt): MinedBatch {
  return {
    batchId,
    hash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    gasUsed: receipt.gasUsed,
    effectiveGasPrice: receipt.effectiveGasPrice,
    status: receipt.status,
  };
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
