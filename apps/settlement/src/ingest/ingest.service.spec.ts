// The settlement ingest against the real SettlementRepository on embedded PGlite and the embedded log: bad
// records are dead-lettered with their reason while the rest of the batch is stored, and each market's event
// sequence is checked for gaps and rewinds.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SettlementMarket } from '@parallax/chain';
import {
  decodeDeadLetter,
  encodeEventBatch,
  encodeSignedOrderBatch,
  MAX_SIGNED_ORDER_EXPIRY,
  type SignedOrderRecord,
} from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { encodeEvents, Side, type BookEvent } from '@parallax/order-book';
import { createEmbeddedPrismaClient, SettlementRepository, type PrismaClient } from '@parallax/persistence';
import { createEmbeddedTransport, type ConsumedBatch, type ConsumedMessage, type Transport } from '@parallax/transport';
import { Registry } from 'prom-client';
import type { SettlementConfig } from '../config/settlement.config.js';
import { SettlementMetrics } from '../settle/settlement.metrics.js';
import { readTopic } from '../testing/verify-settlement.js';
import { IngestService } from './ingest.service.js';

const MARKET: SettlementMarket = {
  marketId: 1,
  baseToken: '0x00000000000000000000000000000000000000b1',
  quoteToken: '0x00000000000000000000000000000000000000c0',
  lotSize: 10n ** 15n,
  tickSize: 10n ** 3n,
};
const TOPICS = { marketEvents: 'ingest.events', deadLetters: 'ingest.dead', signedOrders: 'ingest.signed', settlementStatus: 'ingest.status' };

const config = {
  groupId: 'ingest-spec',
  topics: TOPICS,
  markets: new Map([[MARKET.marketId, MARKET]]),
} as unknown as SettlementConfig;

function order(orderId: number, expiry: bigint): SignedOrderRecord {
  return {
    orderId,
    accountId: 100 + orderId,
    trader: `0x${orderId.toString(16).padStart(40, '0')}`,
    isBuy: orderId % 2 === 0,
    price: 2_000_000n,
    size: 10n ** 15n,
    maxFeeRate: 1_000,
    expiry,
    nonce: BigInt(orderId),
    signature: `0x${'ab'.repeat(32)}${'1b'.repeat(33)}`,
  };
}

/** A signed order batch whose one record carries expiry 2^63: valid uint64 bytes the encoder itself refuses. */
function hugeExpiryBatch(orderId: number): Uint8Array {
  const bytes = encodeSignedOrderBatch({ marketId: MARKET.marketId, orders: [order(orderId, MAX_SIGNED_ORDER_EXPIRY)] });
  // The expiry is written as length 8 then 7f ff ff ff ff ff ff ff: make it 80 00 00 00 00 00 00 00.
  const at = bytes.findIndex((b, i) => b === 8 && bytes[i + 1] === 0x7f && bytes.subarray(i + 2, i + 9).every((x) => x === 0xff));
  assert.ok(at > 0);
  const out = Uint8Array.from(bytes);
  out[at + 1] = 0x80;
  out.fill(0, at + 2, at + 9);
  return out;
}

function trade(seq: number, makerOrderId: number, takerOrderId: number, size = 1): BookEvent {
  return { type: 'trade', seq, ts: seq, makerOrderId, makerAccountId: 100 + makerOrderId, takerOrderId, takerAccountId: 100 + takerOrderId, takerSide: Side.Buy, price: 2_000, size };
}

function level(seq: number): BookEvent {
  return { type: 'level', seq, ts: seq, side: Side.Sell, price: 2_000, size: 0 };
}

function eventBatch(events: readonly BookEvent[]): Uint8Array {
  const firstSeq = events[0]!.seq;
  return encodeEventBatch({
    marketId: MARKET.marketId,
    inputPartition: 0,
    inputOffset: firstSeq,
    firstSeq,
    lastSeq: firstSeq + events.length - 1,
    eventCount: events.length,
    stateHash: '0123456789abcdef',
    sentAtMs: 0,
    events: encodeEvents(events),
  });
}

describe('IngestService (real repository on PGlite, embedded log)', () => {
  let prisma: PrismaClient;
  let repo: SettlementRepository;
  let transport: Transport;
  const log = createLogger('ingest-spec', 'silent');
  let offset = 0;

  before(async () => {
    prisma = await createEmbeddedPrismaClient();
    repo = new SettlementRepository(prisma);
    transport = createEmbeddedTransport();
    await transport.ensureTopics([
      { name: TOPICS.deadLetters, partitions: 1 },
      { name: TOPICS.signedOrders, partitions: 1 },
      { name: TOPICS.marketEvents, partitions: 1 },
    ]);
  });

  after(async () => {
    await transport.close();
    await prisma.$disconnect();
  });

  beforeEach(async () => {
    await prisma.$executeRawUnsafe('TRUNCATE settlement_txs, settlement_batches, settlement_fills, settlement_orders, settlement_market_cursors RESTART IDENTITY CASCADE');
  });

  async function ingest(): Promise<{ service: IngestService; metrics: SettlementMetrics }> {
    const metrics = new SettlementMetrics(new Registry());
    const service = new IngestService(config, transport, repo, metrics, log);
    await service.start();
    return { service, metrics };
  }

  function consumed(topic: string, values: readonly Uint8Array[]): ConsumedBatch {
    const messages: ConsumedMessage[] = values.map((value) => ({ topic, partition: 0, offset: offset++, key: null, value, timestamp: 0, headers: {} }));
    return { topic, partition: 0, messages, highWatermark: offset };
  }

  it('a signed order with expiry >= 2^63 is dead-lettered with its reason; the orders around it are stored', async () => {
    const { service, metrics } = await ingest();
    const good = [order(2, 2_000_000_000n), order(4, 2_000_000_000n)];
    await service.batch(
      consumed(TOPICS.signedOrders, [
        encodeSignedOrderBatch({ marketId: 1, orders: [good[0]!] }),
        hugeExpiryBatch(3),
        encodeSignedOrderBatch({ marketId: 1, orders: [good[1]!] }),
      ]),
    );
    await service.close();

    const stored = await prisma.settlementOrder.findMany({ orderBy: { orderId: 'asc' } });
    assert.deepEqual(stored.map((o) => Number(o.orderId)), [2, 4]);
    const dead = (await readTopic(transport, TOPICS.deadLetters)).map((b) => decodeDeadLetter(b));
    const mine = dead.filter((d) => d.topic === TOPICS.signedOrders);
    assert.equal(mine.length, 1);
    const [letter] = mine;
    assert.ok(letter);
    assert.equal(letter.reason, 'INVALID_FIELD');
    assert.match(letter.detail, /expiry 9223372036854775808 exceeds/);
    assert.equal((await metrics.deadLetters.get()).values.find((v) => v.labels.reason === 'INVALID_FIELD')?.value, 1);
  });

  it('stores each trade with its maker and taker account ids', async () => {
    const { service } = await ingest();
    await service.batch(consumed(TOPICS.marketEvents, [eventBatch([trade(1, 2, 3)])]));
    await service.close();
    const [fill] = await prisma.settlementFill.findMany();
    assert.ok(fill);
    assert.equal(fill.makerAccountId, 102n);
    assert.equal(fill.takerAccountId, 103n);
  });

  it('a gap in a market\'s event sequence is counted, logged and shown; a redelivery is not an anomaly', async () => {
    const { service, metrics } = await ingest();
    const first = eventBatch([trade(1, 2, 3), level(2)]);
    await service.batch(consumed(TOPICS.marketEvents, [first]));
    assert.deepEqual(service.sequenceHealth(), []);
    // Redelivered (a crash before the offset commit): no anomaly, nothing stored twice.
    await service.batch(consumed(TOPICS.marketEvents, [first]));
    assert.deepEqual(service.sequenceHealth(), []);
    // Events 3..5 never arrive.
    await service.batch(consumed(TOPICS.marketEvents, [eventBatch([trade(6, 4, 5)])]));
    const anomalies = service.sequenceHealth();
    assert.deepEqual(anomalies.map((a) => [a.kind, a.marketId, a.expectedSeq, a.gotSeq]), [['gap', 1, 3, 6]]);
    assert.equal((await metrics.sequenceAnomalies.get()).values.find((v) => v.labels.kind === 'gap')?.value, 1);
    assert.equal(await prisma.settlementFill.count(), 2);
    // The cursor is durable: a new process continues from it and sees the next message as contiguous.
    await service.close();
    const again = await ingest();
    await again.service.batch(consumed(TOPICS.marketEvents, [eventBatch([level(7)])]));
    assert.deepEqual(again.service.sequenceHealth(), []);
    await again.service.close();
    assert.equal((await prisma.settlementMarketCursor.findUnique({ where: { marketId: 1 } }))?.lastSeq, 7n);
  });

  it('a market\'s first message that does not start at 1 is a gap (events before it were never consumed)', async () => {
    const { service } = await ingest();
    await service.batch(consumed(TOPICS.marketEvents, [eventBatch([trade(40, 2, 3)])]));
    await service.close();
    assert.deepEqual(service.sequenceHealth().map((a) => [a.kind, a.expectedSeq, a.gotSeq]), [['gap', 1, 40]]);
  });

  it('a rewound history whose trade contradicts a stored one is a rewind anomaly; the stored trade stays', async () => {
    const { service, metrics } = await ingest();
    await service.batch(consumed(TOPICS.marketEvents, [eventBatch([trade(1, 2, 3), trade(2, 2, 5)])]));
    // Sequence 2 again, now a different trade (another taker and size).
    await service.batch(consumed(TOPICS.marketEvents, [eventBatch([trade(2, 2, 7, 9)])]));
    await service.close();
    assert.deepEqual(service.sequenceHealth().map((a) => [a.kind, a.gotSeq]), [['rewind', 2]]);
    assert.equal((await metrics.sequenceAnomalies.get()).values.find((v) => v.labels.kind === 'rewind')?.value, 1);
    const stored = await prisma.settlementFill.findUnique({ where: { marketId_seq: { marketId: 1, seq: 2n } } });
    assert.equal(stored?.takerOrderId, 5n);
  });
});
