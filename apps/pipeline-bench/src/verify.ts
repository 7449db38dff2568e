// What makes this a benchmark and not a stopwatch: every event batch the pipeline committed is consumed,
// decoded and checked (per-market sequences gap-free and without duplicates), and the final per-market
// state hash must equal a single-process replay of the run's orders log through PartitionEngine (the engines
// run each message at its log append time, so the reference replays the log itself, not the seeded commands).
import { decodeEventBatch, defaultMarkets, encodeCommandBatch, MarketCatalogue, partitionForMarket } from '@parallax/contracts';
import { CommandStream } from '@parallax/load-generator';
import { PartitionEngine } from '@parallax/matching';
import type { Command } from '@parallax/order-book';
import type { ConsumedMessage, GroupConsumer, Transport } from '@parallax/transport';
import { waitFor } from './processes.js';

interface MarketProgress {
  lastSeq: number;
  stateHash: string;
}

/** Consumes market events: checks sequences as they arrive, records end-to-end latency and timings. */
export class EventCollector {
  readonly markets = new Map<number, MarketProgress>();
  /** input partition -> highest input offset that produced an event batch. */
  readonly lastInputOffset = new Map<number, number>();
  /** ms, receive time minus the command batch's sentAtMs, one sample per event batch. */
  latencies: number[] = [];
  /** The sentAtMs of each latency sample (same index). */
  sentAts: number[] = [];
  /** Receive time (Date.now()) and input partition of each batch, for fail-over analysis (kept only when asked). */
  readonly arrivals: { atMs: number; partition: number; latencyMs: number }[] = [];
  batches = 0;
  events = 0;
  /** Encoded event batch bytes consumed. */
  bytes = 0;
  duplicates = 0;
  gaps = 0;
  readonly errors: string[] = [];
  firstAtMs = 0;
  lastAtMs = 0;
  /** Earliest command-batch stamp seen: when the first consumed command was due at the generator. */
  minSentAtMs = Infinity;

  constructor(private readonly keepArrivals = false) {}

  add(messages: readonly ConsumedMessage[]): void {
    const now = Date.now();
    if (this.firstAtMs === 0) this.firstAtMs = now;
    this.lastAtMs = now;
    for (const m of messages) {
      const b = decodeEventBatch(m.value);
      this.batches++;
      this.bytes += m.value.length;
      this.events += b.eventCount;
      const p = this.markets.get(b.marketId) ?? { lastSeq: 0, stateHash: '' };
      if (b.firstSeq <= p.lastSeq) {
        this.duplicates++;
        this.note(`market ${b.marketId}: duplicate events ${b.firstSeq}..${b.lastSeq} (already at ${p.lastSeq})`);
        continue;
      }
      if (b.firstSeq !== p.lastSeq + 1) {
        this.gaps++;
        this.note(`market ${b.marketId}: gap, expected seq ${p.lastSeq + 1}, got ${b.firstSeq}`);
      }
      p.lastSeq = b.lastSeq;
      p.stateHash = b.stateHash;
      this.markets.set(b.marketId, p);
      const prev = this.lastInputOffset.get(b.inputPartition) ?? -1;
      if (b.inputOffset > prev) this.lastInputOffset.set(b.inputPartition, b.inputOffset);
      if (b.sentAtMs < this.minSentAtMs) this.minSentAtMs = b.sentAtMs;
      const latency = now - b.sentAtMs;
      this.latencies.push(latency);
      this.sentAts.push(b.sentAtMs);
      if (this.keepArrivals) this.arrivals.push({ atMs: now, partition: b.inputPartition, latencyMs: latency });
    }
  }

  /**
   * Latency samples, sorted, split at `warmupMs` after the first command was due: `warmup` holds the samples of
   * commands due before that point, `measured` the rest.
   */
  latencySplit(warmupMs: number): { measured: Float64Array; warmup: Float64Array } {
    const cutoff = this.minSentAtMs + warmupMs;
    const measured: number[] = [];
    const warmup: number[] = [];
    for (let i = 0; i < this.latencies.length; i++) (this.sentAts[i]! < cutoff ? warmup : measured).push(this.latencies[i]!);
    return { measured: Float64Array.from(measured).sort(), warmup: Float64Array.from(warmup).sort() };
  }

  /** True once every input partition's last message (end offset - 1) has produced its event batch. */
  caughtUp(ordersEnd: ReadonlyMap<number, number>): boolean {
    for (const [p, end] of ordersEnd) {
      if (end > 0 && (this.lastInputOffset.get(p) ?? -1) < end - 1) return false;
    }
    return true;
  }

  private note(e: string): void {
    if (this.errors.length < 20) this.errors.push(e);
  }
}

export interface Expected {
  readonly commands: number;
  readonly perMarket: Map<number, { sequence: number; stateHash: string }>;
}

/**
 * Single-process reference: the first `count` commands of the seeded workload (the same per-market
 * sequences whatever the batching or pacing), fed through one PartitionEngine per partition.
 */
export function replayReference(seed: number, markets: number, partitions: number, count: number, batchSize = 100): Expected {
  const catalogue = new MarketCatalogue(defaultMarkets(markets));
  const engines: PartitionEngine[] = [];
  const offsets: number[] = [];
  for (let p = 0; p < partitions; p++) {
    engines.push(new PartitionEngine({ partition: p, partitions, catalogue }));
    offsets.push(0);
  }
  const stream = new CommandStream(seed, markets);
  const round = markets * batchSize;
  for (let done = 0; done < count; ) {
    const n = Math.min(round, count - done);
    const pending: Command[][] = Array.from({ length: markets }, () => []);
    stream.fill(n, pending);
    done += n;
    const perPartition: ConsumedMessage[][] = engines.map(() => []);
    for (let i = 0; i < markets; i++) {
      const cmds = pending[i]!;
      if (cmds.length === 0) continue;
      const marketId = stream.marketIdAt(i);
      const p = partitionForMarket(marketId, partitions);
      perPartition[p]!.push({
        topic: 'reference',
        partition: p,
        offset: offsets[p]!++,
        key: null,
        value: encodeCommandBatch({ marketId, sentAtMs: 0, commands: cmds }),
        timestamp: 0,
        headers: {},
      });
    }
    for (let p = 0; p < partitions; p++) {
      const msgs = perPartition[p]!;
      if (msgs.length === 0) continue;
      const r = engines[p]!.process(msgs);
      if (r.deadLetters.length > 0) throw new Error(`reference replay dead-lettered ${r.deadLetters.length} messages on partition ${p}`);
    }
  }
  const perMarket = new Map<number, { sequence: number; stateHash: string }>();
  for (const e of engines) {
    for (const id of e.marketIds()) {
      const s = e.market(id)!;
      perMarket.set(id, { sequence: s.sequence, stateHash: s.stateHash });
    }
  }
  return { commands: count, perMarket };
}

/**
 * Single-process reference of a finished run: every partition of its orders topic read from offset 0 and fed
 * through one PartitionEngine each (the engines' time is each record's append time, which only the log has).
 * `commands` is what the log holds, for comparison with what the generator sent.
 */
export async function replayLog(transport: Transport, ordersTopic: string, markets: number, partitions: number): Promise<Expected> {
  const catalogue = new MarketCatalogue(defaultMarkets(markets));
  const perMarket = new Map<number, { sequence: number; stateHash: string }>();
  let commands = 0;
  for (let p = 0; p < partitions; p++) {
    const engine = new PartitionEngine({ partition: p, partitions, catalogue });
    for await (const chunk of transport.read(ordersTopic, p, 0)) {
      const r = engine.process(chunk);
      if (r.deadLetters.length > 0) throw new Error(`reference replay dead-lettered ${r.deadLetters.length} messages on partition ${p}`);
      commands += r.stats.commands;
    }
    for (const id of engine.marketIds()) {
      const st = engine.market(id)!;
      perMarket.set(id, { sequence: st.sequence, stateHash: st.stateHash });
    }
  }
  return { commands, perMarket };
}

/** Problems found comparing what was consumed with the reference (empty = verified). */
export function compare(c: EventCollector, expected: Expected): string[] {
  const problems = [...c.errors];
  if (c.duplicates > 0) problems.push(`${c.duplicates} duplicate event batches`);
  if (c.gaps > 0) problems.push(`${c.gaps} sequence gaps`);
  for (const [id, want] of expected.perMarket) {
    const got = c.markets.get(id);
    if (got === undefined) problems.push(`market ${id}: no events consumed (expected seq ${want.sequence})`);
    else if (got.lastSeq !== want.sequence || got.stateHash !== want.stateHash) {
      problems.push(`market ${id}: consumed seq ${got.lastSeq} hash ${got.stateHash}, reference seq ${want.sequence} hash ${want.stateHash}`);
    }
  }
  for (const id of c.markets.keys()) if (!expected.perMarket.has(id)) problems.push(`market ${id}: events for a market the reference never saw`);
  return problems;
}

export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/**
 * Starts the consumer that collects (and so times) the market events, and returns once it owns every
 * partition: load must start only then, or this consumer's own group join would count as pipeline latency.
 */
export async function startEventConsumer(
  transport: Transport,
  groupId: string,
  topic: string,
  partitions: number,
  collector: EventCollector,
  problems: string[],
): Promise<GroupConsumer> {
  const c = await transport.consumer({ groupId, topics: [topic], fromBeginning: true, maxBatchSize: 10_000 });
  let ownsAll = false;
  await c.run({
    onAssigned: (tps) => {
      ownsAll = tps.length === partitions;
      return Promise.resolve();
    },
    eachBatch: (batch) => {
      collector.add(batch.messages);
      return Promise.resolve();
    },
  });
  void c.stopped.catch((e: unknown) => problems.push(`event consumer stopped: ${String(e)}`));
  await waitFor('the event consumer to own every partition', () => (ownsAll ? true : undefined), 60_000, 20);
  return c;
}
