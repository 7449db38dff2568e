// One account shard as a pure function of its input partition: consumed messages in, encoded outputs out.
// The shard's input log is one partition that carries three message types: RiskRequestBatch (gateway),
// ChainEventBatch (chain watcher) and AccountEventBatch (matching engines), so their relative order is the
// log's and one consumer owns all of an account's inputs. Deploy the requests, chain-events and
// account-events topic names as the same topic (see README); the processor dispatches on the message type.
//
// Like the matching engine's PartitionEngine: no clock, no I/O; the adapter commits the outputs with the
// input offsets in one transaction; redelivered offsets (below nextOffset) are skipped; a message that does
// not decode is dead-lettered whole, and the partition keeps flowing.
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
  type SignedOrderRecord,
} from '@parallax/contracts';
import type { Command } from '@parallax/order-book';
import { RiskEngine, type RiskCommand, type RiskConfig, type RiskOutcome, type RiskRejectCode, type Violation } from '@parallax/risk';
import type { ConsumedMessage, OutgoingMessage } from '@parallax/transport';

export interface AccountShardOptions {
  /** Engine configuration (shard, shards, markets, expiry settings). */
  readonly risk: RiskConfig;
  /** Partition count of the orders / signed-orders topics (the market partitioner's P). */
  readonly marketPartitions: number;
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

interface Pending {
  commands: Command[];
  signed: SignedOrderRecord[];
}

export class AccountShard {
  readonly engine: RiskEngine;
  private next = 0;

  constructor(
    private readonly options: AccountShardOptions,
    engine?: RiskEngine,
  ) {
    this.engine = engine ?? new RiskEngine(options.risk);
  }

  /** First input offset not reflected in the state (what the adapter commits). */
  get nextOffset(): number {
    return this.next;
  }

  process(messages: readonly ConsumedMessage[]): ShardResult {
    return this.run(messages, false);
  }

  /** Applies messages whose outputs were already committed (restore): state only. */
  replay(messages: readonly ConsumedMessage[]): void {
    this.run(messages, true);
  }

  /** The engine's snapshot with the offset it reflects (nextOffset may be raised to the committed offset). */
  snapshot(nextOffset: number = this.next): { nextOffset: number; state: Uint8Array; stateHash: string } {
    if (nextOffset < this.next) throw new RangeError(`snapshot at ${nextOffset} but offsets up to ${this.next} are applied`);
    this.next = nextOffset;
    return { nextOffset, ...this.engine.snapshotWithHash() };
  }

  static restore(options: AccountShardOptions, snapshot: { nextOffset: number; state: Uint8Array } | null, replay: readonly ConsumedMessage[] = []): AccountShard {
    const shard = snapshot === null ? new AccountShard(options) : new AccountShard(options, RiskEngine.restore(options.risk, snapshot.state));
    shard.next = snapshot?.nextOffset ?? 0;
    shard.replay(replay);
    return shard;
  }

  private run(messages: readonly ConsumedMessage[], silent: boolean): ShardResult {
    const orders: OutgoingMessage[] = [];
    const signedOrders: OutgoingMessage[] = [];
    const deadLetters: OutgoingMessage[] = [];
    const results: OutgoingMessage[] = [];
    const rejected: Partial<Record<RiskRejectCode, number>> = {};
    const violations: Violation[] = [];
    let duplicates = 0;
    let commands = 0;
    let accepted = 0;
    let accountEvents = 0;
    for (const msg of messages) {
      if (msg.offset < this.next) {
        duplicates++;
        continue;
      }
      this.next = msg.offset + 1;
      let records: readonly RiskCommand[] | null = null;
      let sentAtMs = 0;
      try {
        const type = peekMessageType(msg.value);
        if (type === MessageType.RiskRequestBatch) {
          const b = decodeRiskRequestBatch(msg.value);
          records = b.requests;
          sentAtMs = b.sentAtMs;
        } else if (type === MessageType.ChainEventBatch) {
          const b = decodeChainEventBatch(msg.value);
          records = b.events;
          sentAtMs = b.sentAtMs;
        } else if (type === MessageType.AccountEventBatch) {
          const b = decodeAccountEventBatch(msg.value);
          const events = decodeAccountEventBatchEvents(b);
          const s = this.engine.applyBookEvents(b.marketId, events);
          accountEvents += s.applied;
          for (const v of s.violations) violations.push(v);
        } else {
          throw new ContractError('WRONG_MESSAGE_TYPE', `an account shard does not take message type ${type}`);
        }
      } catch (e) {
        if (!(e instanceof ContractError)) throw e;
        if (!silent) deadLetters.push(this.deadLetter(msg, e.code, e.message));
        continue;
      }
      if (records === null) continue;
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
      for (const cmd of records) {
        commands++;
        const out = this.engine.apply(cmd);
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
          p.signed.push(out.place.signed);
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
