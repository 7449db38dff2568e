// The matching engine of ONE input partition, as a pure function of that partition's log: consumed
// messages in, encoded event batches / dead letters / snapshots out. No clock, no I/O, no randomness, so
// replaying the same log gives byte-identical outputs; the adapter (apps/matching-engine) wraps each
// process() call in one transaction together with the input offset commit.
import {
  ContractError,
  decodeCommandBatch,
  encodeAccountEventBatch,
  deadLetterKey,
  encodeDeadLetter,
  encodeEventBatch,
  encodeMarketSnapshot,
  marketKey,
  MAX_EVENT_BYTES_PER_BATCH,
  partitionForMarket,
  type CommandBatch,
  type MarketCatalogue,
  type MarketDefinition,
  type MarketSnapshot,
} from '@parallax/contracts';
import {
  decodeEvents,
  emitTo,
  EventEncoder,
  MAX_ORDER_ID_SOURCES,
  NullSink,
  OrderBook,
  type Command,
  type EventSink,
  type MarketConfig,
} from '@parallax/order-book';
import type { ConsumedMessage, OutgoingMessage } from '@parallax/transport';
import { AccountEventRouter } from './account-events.js';
import { MatchingError } from './errors.js';

/** Stable dead-letter reasons: the contract decoder's codes, plus the engine's own. */
export type DeadLetterReason =
  | ContractError['code']
  /** The command batch names a market that belongs to another partition (producer used a wrong partitioner). */
  | 'WRONG_PARTITION'
  /** The book threw while applying the batch (or could not be created); the market was rolled back. */
  | 'ENGINE_ERROR';

/** How books are made; tests inject faulty books through it, production uses the default. */
export interface BookFactory {
  create(config: MarketConfig, sink: EventSink): OrderBook;
  restore(snapshot: Uint8Array, sink: EventSink): OrderBook;
}

export const defaultBookFactory: BookFactory = {
  create: (config, sink) => new OrderBook(config, sink),
  restore: (snapshot, sink) => OrderBook.restore(snapshot, sink),
};

export interface PartitionEngineOptions {
  /** The input partition this engine owns. */
  readonly partition: number;
  /** Partition count of the orders / market-events / snapshots topics (they are equal by contract). */
  readonly partitions: number;
  readonly catalogue: MarketCatalogue;
  /**
   * A market keeps the raw input applied since its last checkpoint so it can be rebuilt exactly if the book
   * throws halfway through a batch. After this many commands it checkpoints (book snapshot in memory) and
   * drops that journal, which bounds memory. Default 20,000.
   */
  readonly checkpointEveryCommands?: number;
  readonly books?: BookFactory;
  /**
   * Number of account shards (partitions of the account-events topic). When set, every input message that
   * produced events also produces one AccountEventBatch per account shard concerned, to be committed in the
   * same transaction as the market events. Unset: no account events (markets without risk shards).
   */
  readonly accountShards?: number;
  /**
   * Order-id sources of a market whose catalogue config names neither orderIdSources nor uniqueOrderIds
   * (see MarketConfig.orderIdSources): each id-minting writer (gateway instance, risk shard) is the source
   * `orderId % orderIdSources`, and a source's ids must increase, so no id is ever used twice in a market.
   * Default: accountShards when the risk shards mint the ids, else GATEWAY_ORDER_ID_SOURCES. 0 = rule off.
   */
  readonly orderIdSources?: number;
}

/** Order-id sources when gateways mint the ids: one per gateway instance (an id is ≡ its instance mod 16). */
export const GATEWAY_ORDER_ID_SOURCES = 16;

/** One input message that changed a market (for metrics: counts and end-to-end latency). */
export interface AppliedBatch {
  readonly marketId: number;
  readonly offset: number;
  readonly sentAtMs: number;
  readonly commands: number;
  readonly events: number;
}

export interface ProcessStats {
  /** Messages handed in (including duplicates and poison). */
  readonly messages: number;
  /** Messages skipped because their offset was already reflected in the state (redelivery after restore). */
  readonly duplicates: number;
  readonly commands: number;
  readonly events: number;
  readonly deadLetters: number;
  readonly applied: readonly AppliedBatch[];
}

export interface ProcessResult {
  /**
   * The EventBatches for the marketEvents topic, in input order: one per input message that produced events,
   * or several consecutive ones (same inputOffset) when its events exceed MAX_EVENT_BYTES_PER_BATCH.
   */
  readonly outputs: OutgoingMessage[];
  /** DeadLetter messages for the deadLetters topic, in input order. */
  readonly deadLetters: OutgoingMessage[];
  /** AccountEventBatch messages for the accountEvents topic (partition = account shard), in input order. */
  readonly accountEvents: OutgoingMessage[];
  readonly stats: ProcessStats;
}

export interface RestoreStats {
  readonly markets: number;
  /** First input offset to replay: the lowest snapshot nextOffset (0 without snapshots). */
  readonly replayFrom: number;
}

/** Progress of one market (for comparisons and diagnostics). */
export interface MarketState {
  readonly marketId: number;
  readonly sequence: number;
  readonly stateHash: string;
  readonly orders: number;
}

interface Market {
  readonly def: MarketDefinition;
  /** The config its book was created with (the definition's, with the engine's default rules). */
  readonly config: MarketConfig;
  book: OrderBook;
  /** Input offsets below this are already reflected in the book (it was restored from a snapshot there). */
  readonly floor: number;
  /** Book bytes of the last checkpoint; null = a fresh book from the definition. */
  checkpoint: Uint8Array | null;
  /** Raw values of the command batches applied since the checkpoint, in order, with the time each ran at. */
  journal: { readonly value: Uint8Array; readonly ts: number }[];
  journalCommands: number;
}

class Poison extends Error {
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
  ) {
    super(message);
  }
}

const EMPTY: readonly ConsumedMessage[] = [];

/**
 * Owns the books of the markets of one input partition (created lazily from the catalogue on their first
 * command batch).
 *
 * Poison input policy: a message is either applied whole or not at all. It is validated whole first
 * (contract decode, market known, market on this partition) before any command touches a book; if the book
 * nevertheless throws halfway through a batch, the market is rolled back to its state before the batch
 * (checkpoint + journal, both deterministic) and the message is dead-lettered with ENGINE_ERROR. Commands
 * that are well-formed but unacceptable (unknown order, off-band price...) are not poison: the book answers
 * them with `rejected` events, which are part of the market's stream.
 */
export class PartitionEngine {
  readonly partition: number;
  readonly partitions: number;
  private readonly catalogue: MarketCatalogue;
  private readonly books: BookFactory;
  private readonly checkpointEvery: number;
  private readonly markets = new Map<number, Market>();
  /** Shared sink of every book of this partition: reset before each message, read after it. */
  private readonly encoder = new EventEncoder();
  /** What the books write to: the encoder, or the account-event router in front of it. */
  private readonly sink: EventSink;
  private readonly router: AccountEventRouter | null;
  private readonly orderIdSources: number;
  private next = 0;

  constructor(options: PartitionEngineOptions) {
    const { partition, partitions } = options;
    if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be >= 1, got ${partitions}`);
    if (!Number.isSafeInteger(partition) || partition < 0 || partition >= partitions) {
      throw new RangeError(`partition must be in [0, ${partitions}), got ${partition}`);
    }
    this.partition = partition;
    this.partitions = partitions;
    this.catalogue = options.catalogue;
    this.books = options.books ?? defaultBookFactory;
    this.checkpointEvery = options.checkpointEveryCommands ?? 20_000;
    this.router = options.accountShards === undefined ? null : new AccountEventRouter(this.encoder, options.accountShards);
    this.sink = this.router ?? this.encoder;
    this.orderIdSources = options.orderIdSources ?? options.accountShards ?? GATEWAY_ORDER_ID_SOURCES;
    if (!Number.isSafeInteger(this.orderIdSources) || this.orderIdSources < 0 || this.orderIdSources > MAX_ORDER_ID_SOURCES) {
      throw new RangeError(`orderIdSources must be an integer in 0..${MAX_ORDER_ID_SOURCES}, got ${this.orderIdSources}`);
    }
  }

  /** The config a new book of `def` gets: the catalogue's, with the engine's order-id rule unless it names one. */
  private configOf(def: MarketDefinition): MarketConfig {
    const c = def.config;
    if (c.orderIdSources !== undefined || c.uniqueOrderIds !== undefined) return c;
    return { ...c, orderIdSources: this.orderIdSources };
  }

  /** First input offset not yet reflected in the state (what the adapter commits). */
  get nextOffset(): number {
    return this.next;
  }

  /** Market ids with a book, ascending. */
  marketIds(): number[] {
    return [...this.markets.keys()].sort((a, b) => a - b);
  }

  market(marketId: number): MarketState | undefined {
    const m = this.markets.get(marketId);
    if (m === undefined) return undefined;
    return { marketId, sequence: m.book.sequence, stateHash: m.book.stateHash(), orders: m.book.orderCount };
  }

  /** Applies messages of this partition in offset order; returns what must be committed with their offsets. */
  process(messages: readonly ConsumedMessage[]): ProcessResult {
    const outputs: OutgoingMessage[] = [];
    const deadLetters: OutgoingMessage[] = [];
    const accountEvents: OutgoingMessage[] = [];
    const applied: AppliedBatch[] = [];
    let duplicates = 0;
    let commands = 0;
    let events = 0;
    for (const msg of messages) {
      if (msg.offset < this.next) {
        duplicates++;
        continue;
      }
      const r = this.handle(msg, outputs);
      if (r instanceof Poison) {
        deadLetters.push(this.deadLetter(msg, r));
      } else if (r !== null) {
        commands += r.applied.commands;
        events += r.applied.events;
        applied.push(r.applied);
        if (r.accounts !== null) for (const a of r.accounts) accountEvents.push(a);
      }
    }
    return {
      outputs,
      deadLetters,
      accountEvents,
      stats: { messages: messages.length, duplicates, commands, events, deadLetters: deadLetters.length, applied },
    };
  }

  /**
   * One MarketSnapshot message per market, all stamped with `nextOffset` (default: the engine's own; pass
   * the committed offset when the log skipped offsets after the last message, e.g. transaction markers).
   * Also makes them the markets' rollback checkpoints.
   */
  snapshot(nextOffset: number = this.next): OutgoingMessage[] {
    if (!Number.isSafeInteger(nextOffset) || nextOffset < this.next) {
      throw new MatchingError('OFFSET_REGRESSION', `snapshot at ${nextOffset} but offsets up to ${this.next} are applied`);
    }
    this.next = nextOffset;
    const out: OutgoingMessage[] = [];
    for (const id of this.marketIds()) {
      const m = this.markets.get(id)!;
      const book = m.book.snapshot();
      m.checkpoint = book;
      m.journal = [];
      m.journalCommands = 0;
      const snap: MarketSnapshot = {
        marketId: id,
        inputPartition: this.partition,
        nextOffset,
        lastSeq: m.book.sequence,
        stateHash: m.book.stateHash(),
        book,
        partitionMarkets: this.markets.size,
      };
      out.push({ key: marketKey(id), partition: partitionForMarket(id, this.partitions), value: encodeMarketSnapshot(snap) });
    }
    return out;
  }

  /**
   * Rebuilds state on a fresh engine: loads the latest snapshot per market, then silently re-applies `replay`
   * (the input between the lowest snapshot offset and the committed offset, whose outputs are already
   * committed). Messages below a market's own snapshot offset are skipped for that market. More replay can
   * follow through replay() (chunked reads).
   */
  restore(snapshots: readonly MarketSnapshot[], replay: readonly ConsumedMessage[] = EMPTY): RestoreStats {
    if (this.markets.size > 0 || this.next > 0) throw new MatchingError('ENGINE_NOT_FRESH', `partition ${this.partition} already has state`);
    const latest = new Map<number, MarketSnapshot>();
    for (const s of snapshots) {
      const prev = latest.get(s.marketId);
      if (prev === undefined || s.nextOffset >= prev.nextOffset) latest.set(s.marketId, s);
    }
    this.checkComplete(latest);
    let from = Number.MAX_SAFE_INTEGER;
    const restored = new Map<number, Market>();
    for (const [id, s] of latest) {
      if (s.inputPartition !== this.partition || partitionForMarket(id, this.partitions) !== this.partition) {
        throw new MatchingError('INVALID_SNAPSHOT', `market ${id} snapshot of partition ${s.inputPartition} restored on ${this.partition}`);
      }
      const def = this.catalogue.get(id);
      if (def === undefined) throw new MatchingError('INVALID_SNAPSHOT', `market ${id} has a snapshot but is not in the catalogue`);
      let book: OrderBook;
      try {
        book = this.books.restore(s.book, this.sink);
      } catch (e) {
        throw new MatchingError('INVALID_SNAPSHOT', `market ${id}: ${errorText(e)}`);
      }
      if (book.config.marketId !== id || book.sequence !== s.lastSeq || book.stateHash() !== s.stateHash) {
        throw new MatchingError(
          'INVALID_SNAPSHOT',
          `market ${id}: book says market ${book.config.marketId} seq ${book.sequence} hash ${book.stateHash()}, ` +
            `snapshot says seq ${s.lastSeq} hash ${s.stateHash}`,
        );
      }
      // A restored book keeps the rules it was created with (they are in its snapshot).
      restored.set(id, { def, config: book.config, book, floor: s.nextOffset, checkpoint: s.book, journal: [], journalCommands: 0 });
      if (s.nextOffset < from) from = s.nextOffset;
    }
    for (const id of [...restored.keys()].sort((a, b) => a - b)) this.markets.set(id, restored.get(id)!);
    const replayFrom = latest.size === 0 ? 0 : from;
    this.next = replayFrom;
    this.replay(replay);
    return { markets: latest.size, replayFrom };
  }

  /**
   * Every market of the newest snapshot set must have a snapshot (of any age: an older one plus a longer
   * replay is still exact). A market without one would be rebuilt from the replayed part of its log only.
   * A set written by a release before snapshots counted their partition's markets (version 1 records,
   * partitionMarkets undefined) cannot be checked: it restores as that release restored it.
   */
  private checkComplete(latest: ReadonlyMap<number, MarketSnapshot>): void {
    let newest = -1;
    for (const s of latest.values()) if (s.nextOffset > newest) newest = s.nextOffset;
    let expected: number | undefined;
    for (const s of latest.values()) {
      if (s.nextOffset !== newest || s.partitionMarkets === undefined) continue;
      if (expected === undefined) expected = s.partitionMarkets;
      else if (s.partitionMarkets !== expected) {
        throw new MatchingError('INVALID_SNAPSHOT', `snapshots at offset ${s.nextOffset} disagree on the partition's market count`);
      }
    }
    if (expected === undefined) return; // no snapshots, or a legacy newest set: the count is unknown
    if (latest.size === expected) return;
    const have = [...latest.keys()].sort((a, b) => a - b).join(', ');
    if (latest.size < expected) {
      throw new MatchingError(
        'MISSING_SNAPSHOT',
        `partition ${this.partition}: the snapshot at offset ${newest} covers ${expected} markets, only ${latest.size} have a snapshot (${have})`,
      );
    }
    throw new MatchingError('INVALID_SNAPSHOT', `partition ${this.partition}: ${latest.size} markets have snapshots, the newest set counts ${expected}`);
  }

  /** Applies messages without producing outputs (their outputs were committed before). */
  replay(messages: readonly ConsumedMessage[]): void {
    for (const msg of messages) {
      if (msg.offset < this.next) continue;
      this.handle(msg, null);
    }
  }

  /**
   * Applies one message and appends its EventBatches to `outputs` (null = silent replay). Returns null when it
   * changed nothing (skipped for its market), a Poison when it must be dead-lettered, else what it did.
   * Advances nextOffset in every case.
   */
  private handle(
    msg: ConsumedMessage,
    outputs: OutgoingMessage[] | null,
  ): { applied: AppliedBatch; accounts: OutgoingMessage[] | null } | Poison | null {
    if (msg.partition !== this.partition) {
      throw new MatchingError('FOREIGN_PARTITION', `message of partition ${msg.partition} given to the engine of ${this.partition}`);
    }
    this.next = msg.offset + 1;
    let batch: CommandBatch;
    try {
      batch = decodeCommandBatch(msg.value);
    } catch (e) {
      if (e instanceof ContractError) return new Poison(e.code, e.message);
      return new Poison('MALFORMED_MESSAGE', errorText(e));
    }
    const id = batch.marketId;
    let m = this.markets.get(id);
    if (m === undefined) {
      const def = this.catalogue.get(id);
      if (def === undefined) return new Poison('UNKNOWN_MARKET', `market ${id} is not in the catalogue`);
      const home = partitionForMarket(id, this.partitions);
      if (home !== this.partition) return new Poison('WRONG_PARTITION', `market ${id} belongs to partition ${home}`);
      const config = this.configOf(def);
      let book: OrderBook;
      try {
        book = this.books.create(config, this.sink);
      } catch (e) {
        return new Poison('ENGINE_ERROR', `market ${id} book cannot be created: ${errorText(e)}`);
      }
      m = { def, config, book, floor: 0, checkpoint: null, journal: [], journalCommands: 0 };
      this.markets.set(id, m);
    }
    if (msg.offset < m.floor) return null;

    const book = m.book;
    const seqBefore = book.sequence;
    const enc = this.encoder;
    if (this.router === null) enc.reset();
    else this.router.reset();
    const cmds = batch.commands;
    const ts = timeOf(book, msg);
    try {
      applyAt(book, cmds, ts);
    } catch (e) {
      this.rollback(m);
      return new Poison('ENGINE_ERROR', `market ${id}: ${errorText(e)}`);
    }
    m.journal.push({ value: msg.value, ts });
    m.journalCommands += cmds.length;
    if (m.journalCommands >= this.checkpointEvery) {
      m.checkpoint = book.snapshot();
      m.journal = [];
      m.journalCommands = 0;
    }
    const seqAfter = book.sequence;
    const count = seqAfter - seqBefore;
    const applied: AppliedBatch = { marketId: id, offset: msg.offset, sentAtMs: batch.sentAtMs, commands: cmds.length, events: count };
    if (outputs === null || count === 0) return { applied, accounts: null };
    let accounts: OutgoingMessage[] | null = null;
    if (this.router !== null) {
      accounts = [];
      for (const [shard, firstAccount, events] of this.router.take()) {
        // One shard can own most of a large input's events (always with one shard): split them like the market
        // events, or the batch would throw MESSAGE_TOO_LARGE after the book changed and brick the partition.
        // Account batches need increasing seqs inside, not contiguous ones, so the parts are plain slices.
        const parts = events.length <= MAX_EVENT_BYTES_PER_BATCH ? [events] : splitEvents(events, MAX_EVENT_BYTES_PER_BATCH).map((p) => p.events);
        for (const part of parts) {
          accounts.push({
            key: String(firstAccount),
            partition: shard,
            value: encodeAccountEventBatch({ marketId: id, inputPartition: this.partition, inputOffset: msg.offset, sentAtMs: batch.sentAtMs, events: part }),
          });
        }
      }
    }
    const key = marketKey(id);
    const partition = partitionForMarket(id, this.partitions);
    const stateHash = book.stateHash();
    if (enc.length <= MAX_EVENT_BYTES_PER_BATCH) {
      const value = encodeEventBatch({
        marketId: id,
        inputPartition: this.partition,
        inputOffset: msg.offset,
        firstSeq: seqBefore + 1,
        lastSeq: seqAfter,
        eventCount: count,
        stateHash,
        sentAtMs: batch.sentAtMs,
        events: enc.bytes(),
      });
      outputs.push({ key, partition, value });
      return { applied, accounts };
    }
    // A valid input can produce more events than one message holds (a 470 KB command batch gives ~2 MB):
    // the book has already changed, so the events must go out, in consecutive parts of the same input.
    let firstSeq = seqBefore + 1;
    for (const part of splitEvents(enc.bytes(), MAX_EVENT_BYTES_PER_BATCH)) {
      const lastSeq = firstSeq + part.count - 1;
      const value = encodeEventBatch({
        marketId: id,
        inputPartition: this.partition,
        inputOffset: msg.offset,
        firstSeq,
        lastSeq,
        eventCount: part.count,
        stateHash,
        sentAtMs: batch.sentAtMs,
        events: part.events,
      });
      outputs.push({ key, partition, value });
      firstSeq = lastSeq + 1;
    }
    return { applied, accounts };
  }

  /** Puts the market back exactly where it was before the failed batch: checkpoint + journal, silently. */
  private rollback(m: Market): void {
    const quiet = new NullSink();
    try {
      const book = m.checkpoint === null ? this.books.create(m.config, quiet) : this.books.restore(m.checkpoint, quiet);
      for (const { value, ts } of m.journal) applyAt(book, decodeCommandBatch(value).commands, ts);
      book.setSink(this.sink);
      m.book = book;
    } catch (e) {
      throw new MatchingError('ROLLBACK_FAILED', `market ${m.def.marketId}: ${errorText(e)}`);
    }
  }

  private deadLetter(msg: ConsumedMessage, p: Poison): OutgoingMessage {
    // The contract's encoder truncates detail, key and value to their limits, so this cannot fail on size.
    return {
      key: deadLetterKey(msg.topic, msg.partition),
      value: encodeDeadLetter({
        reason: p.reason,
        detail: p.message,
        topic: msg.topic,
        partition: msg.partition,
        offset: msg.offset,
        key: msg.key,
        value: msg.value,
      }),
    };
  }
}

/**
 * Cuts encoded events at event boundaries into parts of at most `maxBytes` (one event is far smaller). Only
 * oversized inputs take this path, so re-encoding event by event costs nothing that matters.
 */
export function splitEvents(bytes: Uint8Array, maxBytes: number): { events: Uint8Array; count: number }[] {
  const parts: { events: Uint8Array; count: number }[] = [];
  const enc = new EventEncoder();
  let count = 0;
  for (const e of decodeEvents(bytes)) {
    const before = enc.length;
    emitTo(enc, e);
    if (enc.length > maxBytes && count > 0) {
      parts.push({ events: enc.bytes().subarray(0, before), count });
      enc.reset();
      emitTo(enc, e);
      count = 0;
    }
    count++;
  }
  if (count > 0) parts.push({ events: enc.bytes(), count });
  return parts;
}

/**
 * The time a message's commands run at: the log's append time of the message (Kafka LogAppendTime on the
 * orders topic, the embedded log's own stamp), never the `ts` its writer put in the commands, and never
 * before the market's clock (a log clock that steps back, or a market migrated from writer time, keeps the
 * clock where it is). The time is in the log, so replay runs every command at the same time again.
 */
export function timeOf(book: OrderBook, msg: ConsumedMessage): number {
  const t = msg.timestamp;
  return Number.isSafeInteger(t) && t > book.clock ? t : book.clock;
}

/** Applies decoded commands (fresh objects of this message) at `ts`, whatever ts their writer gave them. */
function applyAt(book: OrderBook, cmds: readonly Command[], ts: number): void {
  for (const cmd of cmds) {
    (cmd as { ts: number }).ts = ts;
    book.apply(cmd);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
