// The book fan-out with a subscriber that stops reading, through the real gateway on the embedded log: the slow
// one is closed with 4008 SLOW_CONSUMER after a contiguous run of updates, the one that reads gets every update.
// Book events are an OrderBook's real level events appended to the events topic, as the engine writes them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { settlementDomain, type SettlementMarket } from '@parallax/chain';
import { defaultMarkets, encodeEventBatch, marketKey, MarketCatalogue, partitionForMarket, settlementTopicSpecs, topicSpecs } from '@parallax/contracts';
import { EventEncoder, OrderBook, OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import { createEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';
import { WebSocket } from 'ws';
import { startGateway } from '../bootstrap.js';
import { loadGatewayConfig } from '../gateway.config.js';
import { SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON } from './fanout-policy.js';
import { StreamGateway } from './stream.gateway.js';

const topics = {
  orders: 'sc.orders',
  marketEvents: 'sc.events',
  snapshots: 'sc.snapshots',
  deadLetters: 'sc.dead',
  signedOrders: 'sc.signed',
  settlementStatus: 'sc.status',
  requests: 'sc.requests',
  riskResults: 'sc.results',
  chainEvents: 'sc.chain',
  accountEvents: 'sc.accounts',
};
const PARTITIONS = 1;
const settlementMarkets: SettlementMarket[] = [
  { marketId: 1, baseToken: '0x1000000000000000000000000000000000000001', quoteToken: '0x2000000000000000000000000000000000000002', lotSize: 10n ** 15n, tickSize: 10n ** 4n },
];
/** Levels each engine batch adds (and as many it removes): ~25 bytes each in an update message. */
const LEVELS = 1_000;
/** At most 600 updates of ~50 KB: far more than the kernel buffers of a loopback socket (a few MB) and the 64 KiB limit. */
const BATCHES = 600;
/** Updates produced after the slow subscriber was dropped: the others go on. */
const AFTER_DROP = 5;

interface BookMsg {
  event?: string;
  type?: string;
  seq?: number;
  prevSeq?: number;
}

describe('slow consumers of the book fan-out', () => {
  let app: INestApplication;
  let url: string;
  let log: EmbeddedTransport;

  before(async () => {
    log = createEmbeddedTransport();
    await log.ensureTopics([
      ...topicSpecs(topics, PARTITIONS),
      ...settlementTopicSpecs(topics, PARTITIONS),
      ...[topics.requests, topics.riskResults, topics.chainEvents, topics.accountEvents].map((name) => ({ name, partitions: 1 })),
    ]);
    ({ app, url } = await startGateway({
      config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_BOOK_COALESCE_MS: '0', GATEWAY_BOOK_COALESCE_MAX_MS: '0', GATEWAY_WS_MAX_BUFFERED_BYTES: String(64 * 1024) }),
      transport: log,
      topics,
      accountShards: 1,
      catalogue: new MarketCatalogue(defaultMarkets(1)),
      domain: settlementDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3'),
      settlementMarkets,
      fees: { makerFeeRate: 0, takerFeeRate: 0 },
    }));
  });
  after(async () => {
    await app.close();
    await log.close();
  });

  const subscribe = async (): Promise<{ ws: WebSocket; msgs: BookMsg[]; next: () => Promise<void> }> => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    const msgs: BookMsg[] = [];
    let wake: () => void = () => undefined;
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString('utf8')) as BookMsg;
      if (m.event === 'book') msgs.push(m);
      wake();
    });
    const next = (): Promise<void> => new Promise((r) => (wake = r));
    await once(ws, 'open');
    const snapshot = next();
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'book', market: 'M1-USDC' }));
    await snapshot;
    return { ws, msgs, next };
  };

  it('closes the subscriber that stops reading with 4008 SLOW_CONSUMER; the one that reads gets every update', { timeout: 600_000 }, async () => {
    const fast = await subscribe();
    const slow = await subscribe();
    assert.equal(fast.msgs[0]?.type, 'snapshot');
    assert.equal(slow.msgs[0]?.type, 'snapshot');
    slow.ws.pause(); // reads nothing from now on: the kernel's buffers fill, then the gateway's

    const book = new OrderBook({ marketId: 1, minSize: 0, minNotional: 0, maxOpenOrdersPerAccount: 0, priceBandBps: 0, initialReferencePrice: 0 });
    const enc = new EventEncoder();
    book.setSink(enc);
    const producer = await log.producer();
    let seq = 0;
    let orderId = 1;
    const last = (msgs: BookMsg[]): number => msgs[msgs.length - 1]?.seq ?? -1;
    const gateway = app.get(StreamGateway);
    const subscribers = (): number => gateway.bookSubscriberCount; // a call: each batch may change it
    assert.equal(subscribers(), 2);
    let droppedAt = -1;
    for (let b = 0; b < BATCHES && (droppedAt < 0 || b < droppedAt + AFTER_DROP); b++) {
      enc.reset();
      const ts = Date.now();
      // A thousand new bid levels, and the previous batch's thousand removed.
      for (let i = 0; i < LEVELS; i++) {
        const id = orderId++;
        book.apply({ type: 'place', ts, orderId: id, accountId: 1, side: Side.Buy, orderType: OrderType.Limit, price: 1_000 + (b % 2) * LEVELS + i, size: 1, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None });
        if (id > LEVELS) book.apply({ type: 'cancel', ts, orderId: id - LEVELS, accountId: 1 });
      }
      const value = encodeEventBatch({ marketId: 1, inputPartition: 0, inputOffset: b, firstSeq: seq + 1, lastSeq: book.sequence, eventCount: book.sequence - seq, stateHash: book.stateHash(), sentAtMs: ts, events: enc.bytes() });
      seq = book.sequence;
      await producer.send(topics.marketEvents, [{ key: marketKey(1), partition: partitionForMarket(1, PARTITIONS), value }]);
      // Paced by the subscriber that reads: each batch is its own update.
      while (last(fast.msgs) < seq) await fast.next();
      if (droppedAt < 0 && subscribers() === 1) droppedAt = b;
    }
    await producer.close();
    assert.ok(droppedAt >= 0, `the slow subscriber was not dropped in ${BATCHES} updates`);

    // It reads again (within ws's 30 s close timeout, after which a client that never reads is cut off, 1006):
    // its backlog, then the close frame.
    const closed = once(slow.ws, 'close') as Promise<[number, Buffer]>;
    slow.ws.resume();
    const [code, reason] = await closed;
    assert.equal(code, SLOW_CONSUMER_CLOSE_CODE);
    assert.equal(reason.toString('utf8'), SLOW_CONSUMER_REASON);

    const updates = (msgs: BookMsg[]): BookMsg[] => msgs.filter((m) => m.type === 'update');
    const contiguous = (msgs: BookMsg[]): boolean => msgs.every((m, i) => i === 0 || m.prevSeq === msgs[i - 1]!.seq);
    // The reader got every update, in sequence, to the last.
    assert.ok(contiguous(updates(fast.msgs)));
    assert.equal(last(fast.msgs), seq);
    // The slow one got a contiguous run from its snapshot, then the close: never a gap, and not everything.
    const got = updates(slow.msgs);
    assert.ok(got.length > 0, 'it read some updates before it stopped');
    assert.equal(got[0]!.prevSeq, slow.msgs[0].seq);
    assert.ok(contiguous(got));
    assert.ok(last(slow.msgs) < seq, 'it was dropped before the end');
    fast.ws.close();
  });
});
