// Helpers shared by the pipeline tests (embedded log) and the fault tests (real Kafka): produce command
// batches, wait for the engines to commit them, and compare the market event streams against a
// single-process replay of the same commands straight on OrderBooks.
import assert from 'node:assert/strict';
import {
  decodeCommandBatch,
  decodeDeadLetter,
  decodeEventBatch,
  defaultMarkets,
  encodeCommandBatch,
  MarketCatalogue,
  marketKey,
  partitionForMarket,
  type CommandBatch,
  type DeadLetter,
  type EventBatch,
} from '@parallax/contracts';
import { GATEWAY_ORDER_ID_SOURCES } from '@parallax/matching';
import { EventEncoder, OrderBook, type Command, type MarketConfig } from '@parallax/order-book';
import type { ConsumedMessage, OutgoingMessage, Transport } from '@parallax/transport';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';

export function testConfig(overrides: Partial<MatchingEngineConfig> = {}): MatchingEngineConfig {
  const markets = 8;
  return {
    kafkaBrokers: undefined,
    kafkaClientId: 'matching-engine-test',
    kafkaConsumer: {},
    logLevel: 'info',
    logFormat: 'json',
    groupId: 'engine-test',
    instanceId: 'test',
    topics: { orders: 'test.orders', marketEvents: 'test.market-events', snapshots: 'test.snapshots', deadLetters: 'test.dead-letters' },
    partitions: 4,
    catalogue: new MarketCatalogue(defaultMarkets(markets)),
    snapshotEveryMessages: 1_000_000,
    snapshotEveryMs: 3_600_000,
    maxBatchMessages: 50,
    concurrentPartitions: 4,
    ensureTopics: true,
    httpHost: '127.0.0.1',
    httpPort: 0,
    ordersRetentionMs: 3_600_000_000,
    ...overrides,
  };
}

export function orderMessages(config: MatchingEngineConfig, batches: readonly CommandBatch[]): OutgoingMessage[] {
  return batches.map((b) => ({
    key: marketKey(b.marketId),
    partition: partitionForMarket(b.marketId, config.partitions),
    value: encodeCommandBatch({ ...b, sentAtMs: Date.now() }),
  }));
}

/** Sends the batches to the orders topic in chunks (non-transactional, like an upstream producer). */
export async function produce(transport: Transport, config: MatchingEngineConfig, batches: readonly CommandBatch[], chunk = 100): Promise<void> {
  const producer = await transport.producer();
  try {
    for (let i = 0; i < batches.length; i += chunk) {
      await producer.send(config.topics.orders, orderMessages(config, batches.slice(i, i + chunk)));
    }
  } finally {
    await producer.close();
  }
}

export async function sendRaw(transport: Transport, topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
  const producer = await transport.producer();
  try {
    await producer.send(topic, messages);
  } finally {
    await producer.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the group has committed every orders partition up to its end. `failures` are watched:
 * any that rejects fails the wait at once (an engine that died).
 */
export async function waitForCommitted(
  transport: Transport,
  config: MatchingEngineConfig,
  timeoutMs = 20_000,
  failures: readonly Promise<void>[] = [],
): Promise<void> {
  let failed: Error | undefined;
  for (const f of failures) f.catch((err: unknown) => (failed ??= err instanceof Error ? err : new Error(String(err))));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failed !== undefined) throw failed;
    const ends = await transport.endOffsets(config.topics.orders);
    const committed = await transport.committedOffsets(config.groupId, config.topics.orders);
    if ([...ends].every(([p, end]) => end === 0 || (committed.get(p) ?? 0) >= end)) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out: ends ${JSON.stringify([...ends])} committed ${JSON.stringify([...committed])}`);
    }
    await sleep(20);
  }
}

export interface MarketStream {
  readonly events: Buffer;
  readonly hash: string;
  readonly seq: number;
  /** Inputs that produced events (the parts of one input whose events exceeded one message count once). */
  readonly batches: number;
}

/**
 * Reads the whole market events topic and folds it per market, asserting that each market's sequence is
 * gap-free and duplicate-free (firstSeq = previous lastSeq + 1, from 1).
 */
export async function readStreams(transport: Transport, config: MatchingEngineConfig): Promise<Map<number, MarketStream>> {
  const acc = new Map<number, { parts: Buffer[]; hash: string; seq: number; batches: number; inputOffset: number }>();
  for (let p = 0; p < config.partitions; p++) {
    for await (const chunk of transport.read(config.topics.marketEvents, p, 0)) {
      for (const m of chunk) {
        const b: EventBatch = decodeEventBatch(m.value);
        assert.equal(partitionForMarket(b.marketId, config.partitions), p, `market ${b.marketId} events on partition ${p}`);
        const a = acc.get(b.marketId) ?? { parts: [], hash: '', seq: 0, batches: 0, inputOffset: -1 };
        assert.equal(b.firstSeq, a.seq + 1, `market ${b.marketId}: expected seq ${a.seq + 1}, got ${b.firstSeq} (gap or duplicate)`);
        a.parts.push(Buffer.from(b.events));
        a.hash = b.stateHash;
        a.seq = b.lastSeq;
        if (b.inputOffset !== a.inputOffset) a.batches++;
        a.inputOffset = b.inputOffset;
        acc.set(b.marketId, a);
      }
    }
  }
  const out = new Map<number, MarketStream>();
  for (const [id, a] of acc) out.set(id, { events: Buffer.concat(a.parts), hash: a.hash, seq: a.seq, batches: a.batches });
  return out;
}

export async function readDeadLetters(transport: Transport, config: MatchingEngineConfig): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  const n = await transport.partitionCount(config.topics.deadLetters);
  for (let p = 0; p < n; p++) {
    for await (const chunk of transport.read(config.topics.deadLetters, p, 0)) for (const m of chunk) out.push(decodeDeadLetter(m.value));
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** The book config the engine gives a market: the catalogue's, with the engine's default order-id sources. */
export function engineMarketConfig(config: MatchingEngineConfig, marketId: number): MarketConfig {
  const c = config.catalogue.get(marketId)!.config;
  if (c.orderIdSources !== undefined || c.uniqueOrderIds !== undefined) return c;
  return { ...c, orderIdSources: config.accountEvents?.shards ?? GATEWAY_ORDER_ID_SOURCES };
}

/** Applies a batch's commands as the engine must: all at the message's log time, never before the book's clock. */
export function applyAtLogTime(book: OrderBook, commands: readonly Command[], logTime: number): void {
  const ts = Math.max(book.clock, logTime);
  for (const c of commands) book.apply({ ...c, ts });
}

export async function readPartitions(transport: Transport, topic: string, partitions: number): Promise<ConsumedMessage[][]> {
  const out: ConsumedMessage[][] = [];
  for (let p = 0; p < partitions; p++) {
    const msgs: ConsumedMessage[] = [];
    for await (const chunk of transport.read(topic, p, 0)) msgs.push(...chunk);
    out.push(msgs);
  }
  return out;
}

/** Good input messages of the orders topic per market, in offset order (what the engine must apply). */
export function goodInputs(config: MatchingEngineConfig, orders: readonly ConsumedMessage[][]): Map<number, { msg: ConsumedMessage; batch: CommandBatch }[]> {
  const out = new Map<number, { msg: ConsumedMessage; batch: CommandBatch }[]>();
  orders.forEach((msgs, p) => {
    for (const msg of msgs) {
      let batch: CommandBatch;
      try {
        batch = decodeCommandBatch(msg.value);
      } catch {
        continue;
      }
      if (config.catalogue.get(batch.marketId) === undefined || partitionForMarket(batch.marketId, config.partitions) !== p) continue;
      const list = out.get(batch.marketId) ?? [];
      list.push({ msg, batch });
      out.set(batch.marketId, list);
    }
  });
  return out;
}

/**
 * The single-process replay: every market's commands applied in order to one OrderBook, each batch at the
 * log time of its message on the orders topic (which must carry exactly `batches`, per market in order).
 */
export async function referenceStreams(transport: Transport, config: MatchingEngineConfig, batches: readonly CommandBatch[]): Promise<Map<number, MarketStream>> {
  const inputs = goodInputs(config, await readPartitions(transport, config.topics.orders, config.partitions));
  const books = new Map<number, { book: OrderBook; enc: EventEncoder; batches: number; next: number }>();
  for (const b of batches) {
    let r = books.get(b.marketId);
    if (r === undefined) {
      const enc = new EventEncoder();
      r = { book: new OrderBook(engineMarketConfig(config, b.marketId), enc), enc, batches: 0, next: 0 };
      books.set(b.marketId, r);
    }
    const input = inputs.get(b.marketId)?.[r.next++];
    assert.ok(input !== undefined, `market ${b.marketId}: batch ${r.next - 1} is not on the orders topic`);
    assert.deepEqual(input.batch.commands, b.commands, `market ${b.marketId}: batch ${r.next - 1} differs from the orders message at ${input.msg.partition}/${input.msg.offset}`);
    const before = r.book.sequence;
    applyAtLogTime(r.book, b.commands, input.msg.timestamp);
    if (r.book.sequence > before) r.batches++;
  }
  const out = new Map<number, MarketStream>();
  for (const [id, r] of books) {
    out.set(id, { events: Buffer.from(r.enc.bytes()), hash: r.book.stateHash(), seq: r.book.sequence, batches: r.batches });
  }
  return out;
}

export function assertSameStreams(got: ReadonlyMap<number, MarketStream>, want: ReadonlyMap<number, MarketStream>): void {
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...want.keys()].sort((a, b) => a - b), 'markets with events');
  for (const [id, w] of want) {
    const g = got.get(id)!;
    assert.equal(g.seq, w.seq, `market ${id}: last sequence`);
    assert.equal(g.hash, w.hash, `market ${id}: state hash`);
    assert.equal(g.batches, w.batches, `market ${id}: event batches`);
    assert.ok(g.events.equals(w.events), `market ${id}: event bytes differ`);
  }
}
