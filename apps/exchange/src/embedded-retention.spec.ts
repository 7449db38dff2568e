// The embedded log of `npm start` under a long run (no services): 'consumed' retention plus the snapshot hold
// keep memory bounded by what readers still need, while a downstream consumer that falls behind (closed for a
// while) and a restarted matching engine both continue exactly where they left off.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEventBatch, encodeCommandBatch, marketKey, partitionForMarket, topicSpecs, type CommandBatch } from '@parallax/contracts';
import { GATEWAY_ORDER_ID_SOURCES, syntheticOrderFlow } from '@parallax/matching';
import { loadMatchingEngineConfig, startMatchingEngine, type MatchingEngineConfig, type MatchingEngineHandle } from '@parallax/matching-engine';
import { createLogger } from '@parallax/observability';
import { EventEncoder, OrderBook } from '@parallax/order-book';
import { createEmbeddedTransport, type EmbeddedTransport, type GroupConsumer } from '@parallax/transport';
import { holdInputForSnapshots } from './retention.js';

const logger = createLogger('retention-test', 'silent');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** No record left at or after the group's commit (transaction markers after it do not count). */
async function caughtUp(log: EmbeddedTransport, groupId: string, topic: string): Promise<boolean> {
  const committed = await log.committedOffsets(groupId, topic);
  for (const p of (await log.endOffsets(topic)).keys()) {
    for await (const chunk of log.read(topic, p, committed.get(p) ?? 0)) if (chunk.length > 0) return false;
  }
  return true;
}

/** Records held in memory by a topic, over its partitions. */
async function held(log: EmbeddedTransport, topic: string): Promise<number> {
  const starts = await log.startOffsets(topic);
  let n = 0;
  for (const p of starts.keys()) n += log.log.partition(topic, p).size;
  return n;
}

/**
 * A downstream reader of the market events (as settlement is): one consumer group, each batch committed
 * after it was taken. Collects every market's event bytes and checks its sequences are gap-free.
 */
class Downstream {
  readonly streams = new Map<number, { parts: Buffer[]; seq: number }>();
  private consumer: GroupConsumer | undefined;

  constructor(
    private readonly log: EmbeddedTransport,
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    const client = this.log.client();
    const producer = await client.producer({ transactionalId: 'downstream' });
    const consumer = await client.consumer({ groupId: 'downstream', topics: [this.topic] });
    await consumer.run({
      eachBatch: async (batch) => {
        for (const m of batch.messages) {
          const b = decodeEventBatch(m.value);
          const s = this.streams.get(b.marketId) ?? { parts: [], seq: 0 };
          assert.equal(b.firstSeq, s.seq + 1, `market ${b.marketId}: gap or duplicate before seq ${b.firstSeq}`);
          s.parts.push(Buffer.from(b.events));
          s.seq = b.lastSeq;
          this.streams.set(b.marketId, s);
        }
        await producer.transaction((tx) => {
          tx.commitOffsets('downstream', [{ topic: this.topic, partition: batch.partition, offset: batch.messages.at(-1)!.offset + 1 }]);
        });
      },
    });
    this.consumer = consumer;
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
    this.consumer = undefined;
  }
}

/** A straight replay; `logTimeOf(i)` is the log's append time of batch i (the engine runs its commands then). */
function reference(config: MatchingEngineConfig, batches: readonly CommandBatch[], logTimeOf: (i: number) => number): Map<number, Buffer> {
  const books = new Map<number, { book: OrderBook; enc: EventEncoder }>();
  batches.forEach((b, i) => {
    let r = books.get(b.marketId);
    if (r === undefined) {
      const enc = new EventEncoder();
      // The engine's default order-id rule (16 gateway sources) on the catalogue's config.
      r = { book: new OrderBook({ ...config.catalogue.get(b.marketId)!.config, orderIdSources: GATEWAY_ORDER_ID_SOURCES }, enc), enc };
      books.set(b.marketId, r);
    }
    const ts = Math.max(r.book.clock, logTimeOf(i));
    for (const c of b.commands) r.book.apply({ ...c, ts });
  });
  return new Map([...books].filter(([, r]) => r.book.sequence > 0).map(([id, r]) => [id, Buffer.from(r.enc.bytes())]));
}

/** The log's time of a round's sends: from the synthetic flow's first ts on, so some rounds run at the log's time and some at the clock. */
const roundTime = (round: number): number => 1_000 + round * 2_000;

describe("npm start's embedded log: retention by what readers still need", () => {
  it('stays bounded over a long run; a late downstream consumer and a restarted engine continue exactly', { timeout: 120_000 }, async () => {
    // The log's clock is pinned per round, so the replay below knows every input's append time.
    let logNow = 0;
    const log = createEmbeddedTransport({ retention: 'consumed', clock: () => logNow });
    const config = loadMatchingEngineConfig({
      PARTITIONS: '2',
      MARKETS: '4',
      SNAPSHOT_EVERY_MESSAGES: '30',
      MAX_BATCH_MESSAGES: '10',
      ENGINE_HTTP_PORT: '0',
      TOPIC_ORDERS: 'r.orders',
      TOPIC_MARKET_EVENTS: 'r.market-events',
      TOPIC_SNAPSHOTS: 'r.snapshots',
      TOPIC_DEAD_LETTERS: 'r.dead-letters',
    });
    const { topics } = config;
    await log.ensureTopics(topicSpecs(topics, config.partitions));
    holdInputForSnapshots(log.log, topics);
    const batches = syntheticOrderFlow({ seed: 5, marketIds: config.catalogue.all().map((d) => d.marketId), batches: 6_000, maxCommandsPerBatch: 6 });
    const rounds = 30;
    const perRound = batches.length / rounds;

    const downstream = new Downstream(log, topics.marketEvents);
    await downstream.start();
    let engine: MatchingEngineHandle = await startMatchingEngine({ ...config, instanceId: 'first' }, log.client(), { logger });
    const producer = await log.producer();
    let maxOrders = 0;
    let maxEvents = 0;
    let eventsWhileLate = 0;
    try {
      for (let round = 0; round < rounds; round++) {
        const slice = batches.slice(round * perRound, (round + 1) * perRound);
        logNow = roundTime(round);
        await producer.send(
          topics.orders,
          slice.map((b) => ({ key: marketKey(b.marketId), partition: partitionForMarket(b.marketId, config.partitions), value: encodeCommandBatch(b) })),
        );
        // Downstream falls behind for rounds 10-14 (closed), the engine restarts at round 20.
        if (round === 10) await downstream.stop();
        if (round === 15) {
          eventsWhileLate = await held(log, topics.marketEvents);
          await downstream.start();
        }
        if (round === 20) {
          await engine.close();
          engine = await startMatchingEngine({ ...config, instanceId: 'restarted' }, log.client(), { logger });
          const reports = engine.service.restoreReports();
          assert.equal(reports.length, config.partitions);
          assert.ok(reports.every((r) => r.snapshots > 0), 'restored from snapshots');
        }
        await until(`round ${round} matched`, () => caughtUp(log, config.groupId, topics.orders));
        if (round < 10 || round >= 15) await until(`round ${round} read downstream`, () => caughtUp(log, 'downstream', topics.marketEvents));
        maxOrders = Math.max(maxOrders, await held(log, topics.orders));
        if (round < 10 || round >= 16) maxEvents = Math.max(maxEvents, await held(log, topics.marketEvents));
      }
    } finally {
      await producer.close();
      await engine.close();
      await downstream.stop();
    }

    // Everything matched exactly once, in order, as a straight replay: through the late reader and the restart.
    const want = reference(config, batches, (i) => roundTime(Math.floor(i / perRound)));
    assert.deepEqual([...downstream.streams.keys()].sort(), [...want.keys()].sort());
    for (const [id, bytes] of want) assert.ok(Buffer.concat(downstream.streams.get(id)!.parts).equals(bytes), `market ${id} events`);

    // Memory: the orders log holds about a snapshot interval per partition, not the 6,000 messages sent;
    // the events log holds what the downstream group has not committed, so it grew only while that group was away.
    const sentOrders = batches.length;
    console.log(`[retention] held at most ${maxOrders} orders records and ${maxEvents} event records (of ${sentOrders} sent); ${eventsWhileLate} events held while downstream was away`);
    assert.ok(maxOrders <= 2 * (config.snapshotEveryMessages + config.maxBatchMessages) * config.partitions + 2 * perRound, `orders held ${maxOrders}`);
    assert.ok(maxEvents <= 2 * perRound, `events held ${maxEvents}`);
    assert.ok(eventsWhileLate > 4 * perRound, `events kept for the late reader: ${eventsWhileLate}`);
    await log.close();
  });
});
