// One account shard as a pure function of its inputs: consumed messages in, encoded outputs out.
// A shard has three input partitions, each written by one principal: requests (RiskRequestBatch, the
// gateway), chain events (ChainEventBatch, the chain watcher) and account events (AccountEventBatch, the
// matching engines). Each source takes only its own message type: a request writer cannot pass off a
// deposit or a fill, even if the topic ACLs were wrong. The order in which the three are interleaved is
// decided by consumption, not by the logs; the adapter journals it (see RiskShards) and a restore replays the
// sources in the journaled order, so the state is a pure function of (journal, inputs).
//
// Like the matching engine's PartitionEngine: no clock, no I/O; the adapter commits the outputs with the
// input offsets in one transaction; redelivered offsets (below the source's next offset) are skipped; a
// message that does not decode, or comes from the wrong source, is dead-lettered whole, and the partition
// keeps flowing.
import {
  ContractError,
  MessageType,
  deadLetterKey,
  decodeAccountEventBatch,
  decodeAccountEventBatchEvents,
  decodeChainEventBatch,
  decodeRiskRequestBatch,
  encodeCommandBatch,
  encodeDeadLetter,
  encodeRiskResultBatch,
  encodeSignedOrderBatch,
  marketKey,
  partitionForMarket,
  peekMessageType,
  type RiskResult,
  type RiskTopicNames,
  type SignedOrderRecord,
} from '@parallax/contracts';
import type { Command } from '@parallax/order-book';
import { RiskEngine, type ForwardedCancel, type RiskCommand, type RiskConfig, type RiskOutcome, type RiskRejectCode, type Violation } from '@parallax/risk';
import type { ConsumedMessage, OutgoingMessage } from '@parallax/transport';

/** The shard's input sources, in journal order (their index is their journal code). */
export const RISK_SOURCES = ['requests', 'chainEvents', 'accountEvents'] as const;
export type RiskSource = (typeof RISK_SOURCES)[number];
/** Per source, the first input offset not reflected in the state. */
export type SourceOffsets = Record<RiskSource, number>;

/** The one message type each source may carry. */
const SOURCE_TYPE: Record<RiskSource, MessageType> = {
  requests: MessageType.RiskRequestBatch,
  chainEvents: MessageType.ChainEventBatch,
  accountEvents: MessageType.AccountEventBatch,
};

export const zeroOffsets = (): SourceOffsets => ({ requests: 0, chainEvents: 0, accountEvents: 0 });

export interface AccountShardOptions {
  /** Engine configuration (shard, shards, markets, expiry settings). */
  readonly risk: RiskConfig;
  /** Partition count of the orders / signed-orders topics (the market partitioner's P). */
  readonly marketPartitions: number;
  /** The three input topics: a message's topic names its source. */
  readonly inputs: RiskTopicNames;
}

export interface ShardStats {
  readonly messages: number;
  readonly duplicates: number;
  readonly commands: number;
  readonly accepted: number;
  /** Refusals by stable code (what the client is told). */
  readonly rejected: Partial<Record<RiskRejectCode, number>>;
  readonly accountEvents: number;
  readonly violations: readonly Violation[];
  readonly deadLetters: number;
}

export interface ShardResult {
  /** CommandBatch messages for the orders topic (one per market per input message), in input order. */
  readonly orders: OutgoingMessage[];
  /** SignedOrderBatch messages for the signed-orders topic, written with (and before) their commands. */
  readonly signedOrders: OutgoingMessage[];
  readonly deadLetters: OutgoingMessage[];
  /**
   * RiskResultBatch messages for the risk-results topic: the answer to every client request (the minted
   * order id, or the refusal's code), one message per input message that carried requests, written to the
   * shard's own partition.
   */
  readonly results: OutgoingMessage[];
  readonly stats: ShardStats;
}

/** What a shard snapshot holds besides the engine state: where each source and the journal stand. */
export interface ShardPosition {
  readonly inputs: SourceOffsets;
  /** Journal entries applied (the next entry's sequence number). */
  readonly journalSeq: number;
}

/** What a replay reports per request or chain event applied (a read model's view: apps/projector). */
export interface AppliedCommand {
  readonly message: ConsumedMessage;
  /** The record's index in its message. */
  readonly index: number;
  readonly command: RiskCommand;
  readonly outcome: RiskOutcome;
}

const NO_CANCELS: readonly ForwardedCancel[] = Object.freeze([]);

interface Pending {
  commands: Command[];
  signed: SignedOrderRecord[];
}

export class AccountShard {
  readonly engine: RiskEngine;
  private readonly next: SourceOffsets;
  private seq = 0;
  private readonly sourceByTopic: ReadonlyMap<string, RiskSource>;

  constructor(
    private readonly options: AccountShardOptions,
    engine?: RiskEngine,
    position?: ShardPosition,
  ) {
    this.engine = engine ?? new RiskEngine(options.risk);
    this.next = { ...(position?.inputs ?? zeroOffsets()) };
    this.seq = position?.journalSeq ?? 0;
    const byTopic = new Map<string, RiskSource>(RISK_SOURCES.map((s) => [options.inputs[s], s]));
    if (byTopic.size !== RISK_SOURCES.length) throw new RangeError(`the three input topics must be distinct: ${RISK_SOURCES.map((s) => options.inputs[s]).join(', ')}`);
    this.sourceByTopic = byTopic;
  }

  /** The source a topic feeds (throws for a topic that is not an input of this shard). */
  sourceOf(topic: string): RiskSource {
    const s = this.sourceByTopic.get(topic);
    if (s === undefined) throw new RangeError(`topic ${topic} is not an input of the account shards`);
    return s;
  }

  /** Per source, the first input offset not reflected in the state (what the adapter commits). */
  get nextOffsets(): Readonly<SourceOffsets> {
    return this.next;
  }

  /** Journal entries applied so far. */
  get journalSeq(): number {
    return this.seq;
  }

  /**
   * Applies one consumed batch of one source (its messages all come from one topic-partition) and counts it
   * as the next journal entry. Returns the outputs and the entry's input range [from, to): nothing when every
   * message was a redelivery (no entry then).
   */
  process(messages: readonly ConsumedMessage[]): ShardResult & { entry: { source: RiskSource; seq: number; from: number; to: number } | null } {
    const source = this.sourceOfBatch(messages);
    const from = this.next[source];
    const result = this.run(source, messages, false);
    const to = this.next[source];
    if (to === from) return { ...result, entry: null };
    return { ...result, entry: { source, seq: this.seq++, from, to } };
  }

  /**
   * Replays one journal entry whose outputs were already committed (restore): state only. `messages` are the
   * committed input of [from, to); the entry must continue this shard's journal and its source's offsets.
   */
  replayEntry(entry: { source: RiskSource; seq: number; from: number; to: number }, messages: readonly ConsumedMessage[], observe?: (applied: AppliedCommand) => void): void {
    if (entry.seq !== this.seq) throw new RangeError(`journal entry ${entry.seq} replayed after ${this.seq} entries`);
    if (entry.from !== this.next[entry.source]) throw new RangeError(`journal entry ${entry.seq}: ${entry.source} from ${entry.from}, the shard is at ${this.next[entry.source]}`);
    for (const m of messages) {
      if (this.sourceOf(m.topic) !== entry.source || m.offset < entry.from || m.offset >= entry.to) {
        throw new RangeError(`journal entry ${entry.seq}: message ${m.topic}@${m.offset} outside ${entry.source} [${entry.from}, ${entry.to})`);
      }
    }
    this.run(entry.source, messages, true, observe);
    this.next[entry.source] = entry.to;
    this.seq++;
  }

  /** The engine's snapshot with the position it reflects. */
  snapshot(): ShardPosition & { state: Uint8Array; stateHash: string } {
    return { inputs: { ...this.next }, journalSeq: this.seq, ...this.engine.snapshotWithHash() };
  }

  static restore(options: AccountShardOptions, snapshot: (ShardPosition & { state: Uint8Array }) | null): AccountShard {
    if (snapshot === null) return new AccountShard(options);
    return new AccountShard(options, RiskEngine.restore(options.risk, snapshot.state), snapshot);
  }

  private sourceOfBatch(messages: readonly ConsumedMessage[]): RiskSource {
    const first = messages[0];
    if (first === undefined) throw new RangeError('an empty batch');
    for (const m of messages) {
      if (m.topic !== first.topic || m.partition !== first.partition) throw new RangeError('a batch mixes topic-partitions');
    }
    return this.sourceOf(first.topic);
  }

  private run(source: RiskSource, messages: readonly ConsumedMessage[], silent: boolean, observe?: (applied: AppliedCommand) => void): ShardResult {
    const orders: OutgoingMessage[] = [];
    const signedOrders: OutgoingMessage[] = [];
    const deadLetters: OutgoingMessage[] = [];
    const results: OutgoingMessage[] = [];
    const rejected: Partial<Record<RiskRejectCode, number>> = {};
    const violations: Violation[] = [];
    const expected = SOURCE_TYPE[source];
    let duplicates = 0;
    let commands = 0;
    let accepted = 0;
    let accountEvents = 0;
    for (const msg of messages) {
      if (msg.offset < this.next[source]) {
        duplicates++;
        continue;
      }
      this.next[source] = msg.offset + 1;
      let records: readonly RiskCommand[] | null = null;
      let sentAtMs = 0;
      // Cancels the books' reports made the engine send (claims that need held funds back, see coverClaims).
      let reportCancels: readonly ForwardedCancel[] = NO_CANCELS;
      try {
        const type = peekMessageType(msg.value);
        if (type !== expected) {
          throw new ContractError('WRONG_MESSAGE_TYPE', `the ${source} input of an account shard takes message type ${expected}, not ${type}`);
        }
        if (type === MessageType.RiskRequestBatch) {
          const b = decodeRiskRequestBatch(msg.value);
          records = b.requests;
          sentAtMs = b.sentAtMs;
        } else if (type === MessageType.ChainEventBatch) {
          const b = decodeChainEventBatch(msg.value);
          // Kinds the engine does not know yet (the watcher's nonceFloorRaised, orderCancelled) are refused by
          // RiskEngine.apply with UNKNOWN_COMMAND and counted: never applied, never silently dropped.
          // settlementSkipped is applied (the skipped fills are reversed, see SettlementSkipped).
          records = b.events as readonly RiskCommand[];
          sentAtMs = b.sentAtMs;
        } else {
          const b = decodeAccountEventBatch(msg.value);
          const events = decodeAccountEventBatchEvents(b);
          const s = this.engine.applyBookEvents(b.marketId, events);
          accountEvents += s.applied;
          for (const v of s.violations) violations.push(v);
          reportCancels = s.cancels;
          sentAtMs = b.sentAtMs;
        }
      } catch (e) {
        if (!(e instanceof ContractError)) throw e;
        if (!silent) deadLetters.push(this.deadLetter(msg, e.code, e.message));
        continue;
      }
      if (records === null && reportCancels.length === 0) continue;
      // Per market, the commands and signed orders this message forwards, in request order.
      const pending = new Map<number, Pending>();
      const at = (marketId: number): Pending => {
        let p = pending.get(marketId);
        if (p === undefined) {
          p = { commands: [], signed: [] };
          pending.set(marketId, p);
        }
        return p;
      };
      const answers: RiskResult[] = [];
      // The same forwarding as a request's or chain event's cancels (a withdrawal's, a skipped fill's).
      for (const c of reportCancels) at(c.marketId).commands.push(c.command);
      for (const [index, cmd] of (records ?? []).entries()) {
        commands++;
        const out = this.engine.apply(cmd, sentAtMs);
        observe?.({ message: msg, index, command: cmd, outcome: out });
        if (!silent) {
          const answer = resultOf(cmd, out);
          if (answer !== null) answers.push(answer);
        }
        if (!out.ok) {
          rejected[out.code] = (rejected[out.code] ?? 0) + 1;
          continue;
        }
        if (out.place !== null) {
          accepted++;
          const p = at(out.place.marketId);
          p.commands.push(out.place.command);
          // The client order id rides along to the signed orders' readers (gateways, the projector).
          const clientOrderId = cmd.type === 'place' ? cmd.clientOrderId : undefined;
          p.signed.push(clientOrderId === undefined ? out.place.signed : { ...out.place.signed, clientOrderId });
        }
        for (const c of out.cancels) at(c.marketId).commands.push(c.command);
      }
      if (silent) continue;
      if (answers.length > 0) results.push({ key: msg.key ?? answers[0]!.account, partition: msg.partition, value: encodeRiskResultBatch({ shard: msg.partition, results: answers }) });
      for (const [marketId, p] of pending) {
        const partition = partitionForMarket(marketId, this.options.marketPartitions);
        const key = marketKey(marketId);
        // Signed orders first: the settlement service must know both orders of a trade by the time it exists.
        if (p.signed.length > 0) signedOrders.push({ key, partition, value: encodeSignedOrderBatch({ marketId, orders: p.signed }) });
        orders.push({ key, partition, value: encodeCommandBatch({ marketId, sentAtMs, commands: p.commands }) });
      }
    }
    return {
      orders,
      signedOrders,
      deadLetters,
      results,
      stats: { messages: messages.length, duplicates, commands, accepted, rejected, accountEvents, violations, deadLetters: deadLetters.length },
    };
  }

  private deadLetter(msg: ConsumedMessage, reason: string, detail: string): OutgoingMessage {
    return {
      key: deadLetterKey(msg.topic, msg.partition),
      value: encodeDeadLetter({ reason, detail, topic: msg.topic, partition: msg.partition, offset: msg.offset, key: msg.key, value: msg.value }),
    };
  }
}

/** The client's answer to a request (null for chain events: nobody waits for them). */
function resultOf(cmd: RiskCommand, out: RiskOutcome): RiskResult | null {
  const code = out.ok ? null : out.code;
  const message = out.ok ? '' : out.message;
  if (cmd.type === 'place') {
    const place = out.ok ? out.place : null;
    return {
      kind: 'place',
      account: cmd.account,
      nonce: cmd.order.nonce,
      marketId: cmd.marketId,
      orderId: place?.signed.orderId ?? 0,
      accountId: place?.signed.accountId ?? 0,
      code,
      message,
    };
  }
  if (cmd.type === 'cancel') return { kind: 'cancel', account: cmd.account, orderId: cmd.orderId, code, message };
  return null;
}
