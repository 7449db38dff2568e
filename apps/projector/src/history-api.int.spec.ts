// The history endpoints through the real gateway (HTTP, signed Login) over the projector's market read model in a
// throw-away PostgreSQL database, with a gateway that holds none of it in memory (it follows another events
// topic): closed orders, an order by id, fills with their settlement status (batch, transaction, gas share),
// public trades and candles all come from the rows, each answer with `asOf` naming the market sequence it
// reflects. Another trader reads none of Alice's orders or fills; bad parameters are 400s naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SettlementMarket } from '@parallax/chain';
import { encodeEventBatch, encodeSignedOrderBatch, type SignedOrderRecord } from '@parallax/contracts';
import { ensureReadModelTopics, readModelTopics, startReadModelGateway, type ReadModelGateway } from '@parallax/gateway/testing';
import { CommandType, DoneReason, encodeEvents, OrderType, RejectReason, Side, TimeInForce, type BookEvent } from '@parallax/order-book';
import { createPrismaClient, createTestDatabase, SettlementRepository, type PrismaClient, type TestDatabase } from '@parallax/persistence';
import { QUOTE, testMarket } from '@parallax/risk/testing';
import { createEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';
import { privateKeyToAccount } from 'viem/accounts';
import { MarketProjector } from './market/market-projector.service.js';
import { MarketStore } from './store/market.store.js';

const MARKET = testMarket(1, { maker: -50, taker: 300 });
const settlementMarket: SettlementMarket = { marketId: 1, baseToken: MARKET.baseToken, quoteToken: QUOTE, lotSize: MARKET.lotSize, tickSize: MARKET.tickSize };
const topics = readModelTopics('hist', 'hist.gateway-events');
/** The topic the projector reads (the gateway follows an empty one: everything it answers comes from the rows). */
const PROJECTED_EVENTS = 'hist.market-events';
const alice = privateKeyToAccount('0x1111111111111111111111111111111111111111111111111111111111111111');
const bob = privateKeyToAccount('0x2222222222222222222222222222222222222222222222222222222222222222');
const ALICE = 4;
const BOB = 7;
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

/** Alice's resting buy, partly filled by Bob's sell (minute 0), Bob's second sell fills it (minute 2), Alice's second buy is cancelled, a place is rejected. */
function events(): BookEvent[] {
  const list: BookEvent[] = [];
  let seq = 0;
  const at = (ts: number) => ({ seq: ++seq, ts });
  list.push({ type: 'accepted', ...at(T0), orderId: 1, accountId: ALICE, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 100, size: 10 });
  list.push({ type: 'accepted', ...at(T0 + 1_000), orderId: 2, accountId: BOB, side: Side.Sell, orderType: OrderType.Limit, tif: TimeInForce.IOC, price: 99, size: 4 });
  list.push({ type: 'trade', ...at(T0 + 1_000), makerOrderId: 1, makerAccountId: ALICE, takerOrderId: 2, takerAccountId: BOB, takerSide: Side.Sell, price: 100, size: 4 });
  list.push({ type: 'done', ...at(T0 + 1_000), orderId: 2, accountId: BOB, reason: DoneReason.FILLED, remaining: 0 });
  list.push({ type: 'accepted', ...at(T0 + 120_000), orderId: 3, accountId: BOB, side: Side.Sell, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 98, size: 9 });
  list.push({ type: 'trade', ...at(T0 + 120_000), makerOrderId: 1, makerAccountId: ALICE, takerOrderId: 3, takerAccountId: BOB, takerSide: Side.Sell, price: 100, size: 6 });
  list.push({ type: 'done', ...at(T0 + 120_000), orderId: 1, accountId: ALICE, reason: DoneReason.FILLED, remaining: 0 });
  list.push({ type: 'accepted', ...at(T0 + 121_000), orderId: 4, accountId: ALICE, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 97, size: 2 });
  list.push({ type: 'done', ...at(T0 + 122_000), orderId: 4, accountId: ALICE, reason: DoneReason.CANCELLED, remaining: 2 });
  list.push({ type: 'rejected', ...at(T0 + 123_000), command: CommandType.Place, orderId: 5, accountId: ALICE, reason: RejectReason.POST_ONLY_WOULD_TAKE });
  return list;
}

const signed = (orderId: number, accountId: number, trader: string): SignedOrderRecord => ({
  orderId,
  accountId,
  trader: trader.toLowerCase() as `0x${string}`,
  isBuy: true,
  price: 1n,
  size: 1n,
  maxFeeRate: 0,
  expiry: 1n,
  nonce: BigInt(orderId),
  signature: `0x${'11'.repeat(65)}`,
});

describe('history endpoints over the market read model', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  let log: EmbeddedTransport;
  let projector: MarketProjector;
  let gateway: ReadModelGateway;

  before(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
    log = createEmbeddedTransport();
    await ensureReadModelTopics(log, topics, [PROJECTED_EVENTS]);
    const producer = await log.producer();
    await producer.send(topics.signedOrders, [{ key: '1', partition: 0, value: encodeSignedOrderBatch({ marketId: 1, orders: [signed(1, ALICE, alice.address), signed(2, BOB, bob.address)] }) }]);
    // One message per event: the projector commits several batches (maxBatchSize 3) and folds across them.
    const list = events();
    await producer.send(
      PROJECTED_EVENTS,
      list.map((e) => ({
        key: '1',
        partition: 0,
        value: encodeEventBatch({ marketId: 1, inputPartition: 0, inputOffset: e.seq, firstSeq: e.seq, lastSeq: e.seq, eventCount: 1, stateHash: '0'.repeat(16), sentAtMs: 0, events: encodeEvents([e]) }),
      })),
    );
    await producer.close();
    const store = new MarketStore(prisma);
    projector = new MarketProjector({ groupId: 'hist-projector', marketEvents: PROJECTED_EVENTS, signedOrders: topics.signedOrders, partitions: 1, maxBatchMessages: 3 }, log, store);
    await projector.start();
    for (let i = 0; i < 200 && (projector.cursors().get(1)?.lastSeq ?? 0) < list.length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(projector.cursors().get(1)?.lastSeq, list.length);

    // The settlement service's tables: the first trade settled in batch 7 (2 fills, 180,000 gas at 2 gwei), the second pending.
    await prisma.settlementBatch.create({
      data: { id: 7n, status: 'CONFIRMED', fillCount: 2, orderCount: 2, gasLimit: 300_000n, data: new Uint8Array([1]), txHash: `0x${'ab'.repeat(32)}`, gasUsed: 180_000n, effectiveGasPrice: '2000000000' },
    });
    await new SettlementRepository(prisma).saveFills([
      { marketId: 1, seq: 3n, makerOrderId: 1n, takerOrderId: 2n, makerAccountId: BigInt(ALICE), takerAccountId: BigInt(BOB), takerSide: 'SELL', priceTicks: 100n, sizeLots: 4n, ts: BigInt(T0 + 1_000) },
      { marketId: 1, seq: 6n, makerOrderId: 1n, takerOrderId: 3n, makerAccountId: BigInt(ALICE), takerAccountId: BigInt(BOB), takerSide: 'SELL', priceTicks: 100n, sizeLots: 6n, ts: BigInt(T0 + 120_000) },
    ]);
    await prisma.settlementFill.update({ where: { marketId_seq: { marketId: 1, seq: 3n } }, data: { status: 'SETTLED', batchId: 7n } });

    gateway = await startReadModelGateway(log, topics, settlementMarket, { historyReadModel: store, fillSettlement: new SettlementRepository(prisma) });
  });
  after(async () => {
    await gateway.app.close();
    await projector.close();
    await log.close();
    await prisma.$disconnect();
    await db.drop();
  });

  const loginHeaders = (who: typeof alice): Promise<Record<string, string>> => gateway.loginHeaders(who);
  const get: ReadModelGateway['get'] = (...args) => gateway.get(...args);
  const readModelAsOf = { source: 'read-model', markets: { 'M1-USDC': { seq: 10, ts: T0 + 123_000 } } };
  /** A read-model answer merged with the gateway's memory (empty here: it follows another topic). */
  const mergedAsOf = { ...readModelAsOf, gateway: { 'M1-USDC': { seq: 0 } } };

  it("serves the trader's closed orders from the rows, newest last, with the sequence they reflect", async () => {
    const r = await get('/v1/orders/closed', await loginHeaders(alice));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const orders = r.body['orders'] as Record<string, unknown>[];
    assert.deepEqual(
      orders.map((o) => [o['id'], o['status'], o['reason'], o['side'], Number(o['amount']), Number(o['filled']), o['trader']]),
      [
        ['1', 'filled', 'FILLED', 'buy', 0.01, 0.01, alice.address.toLowerCase()],
        ['4', 'canceled', 'CANCELLED', 'buy', 0.002, 0, alice.address.toLowerCase()],
        ['5', 'rejected', 'POST_ONLY_WOULD_TAKE', 'buy', 0, 0, alice.address.toLowerCase()],
      ],
    );
    assert.equal(Number(orders[0]!['average']), 1);
    assert.deepEqual(r.body['asOf'], mergedAsOf);
    // Paging: the newest one, then the ones before it.
    const h = await loginHeaders(alice);
    assert.deepEqual(((await get('/v1/orders/closed?limit=1', h)).body['orders'] as Record<string, unknown>[]).map((o) => o['id']), ['5']);
    assert.deepEqual(((await get(`/v1/orders/closed?before=${T0 + 122_000}`, h)).body['orders'] as Record<string, unknown>[]).map((o) => o['id']), ['1']);
    // Bob sees his own and none of Alice's.
    const bobs = (await get('/v1/orders/closed', await loginHeaders(bob))).body['orders'] as Record<string, unknown>[];
    assert.deepEqual(bobs.map((o) => o['id']), ['2']);
  });

  it('serves an order by id from the rows when the gateway does not hold it; not another trader', async () => {
    const r = await get('/v1/orders/M1-USDC/1', await loginHeaders(alice));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body['status'], 'filled');
    assert.deepEqual(r.body['asOf'], readModelAsOf);
    const notHers = await get('/v1/orders/M1-USDC/1', await loginHeaders(bob));
    assert.equal(notHers.status, 404);
    assert.equal((notHers.body['error'] as { code: string }).code, 'ORDER_NOT_FOUND');
  });

  it('serves fills with their settlement: batch, transaction and gas share, or pending', async () => {
    const r = await get('/v1/orders/fills', await loginHeaders(alice));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fills = r.body['fills'] as Record<string, unknown>[];
    assert.deepEqual(
      fills.map((f) => [f['id'], f['orderId'], f['takerOrMaker'], f['side'], Number(f['amount'])]),
      [
        ['3', '1', 'maker', 'buy', 0.004],
        ['6', '1', 'maker', 'buy', 0.006],
      ],
    );
    assert.deepEqual(fills[0]!['settlement'], { status: 'settled', batchId: '7', txHash: `0x${'ab'.repeat(32)}`, gasShare: '90000', feeShareWei: '180000000000000', failureReason: null });
    assert.deepEqual(fills[1]!['settlement'], { status: 'pending', batchId: null, txHash: null, gasShare: null, feeShareWei: null, failureReason: null });
    assert.deepEqual(r.body['asOf'], mergedAsOf);
    const bobs = (await get('/v1/orders/fills', await loginHeaders(bob))).body['fills'] as Record<string, unknown>[];
    assert.deepEqual(bobs.map((f) => [f['id'], f['orderId'], f['takerOrMaker'], f['side']]), [['3', '2', 'taker', 'sell'], ['6', '3', 'taker', 'sell']]);
  });

  it('serves public trades and candles from the rows (the gateway holds none)', async () => {
    const t = await get('/v1/markets/M1-USDC/trades?limit=10');
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.deepEqual((t.body['trades'] as Record<string, unknown>[]).map((x) => [x['id'], x['side'], Number(x['price']), x['timestamp']]), [['3', 'sell', 1, T0 + 1_000], ['6', 'sell', 1, T0 + 120_000]]);
    assert.deepEqual(t.body['asOf'], mergedAsOf);
    assert.deepEqual(((await get('/v1/markets/M1-USDC/trades?limit=10&before=6')).body['trades'] as Record<string, unknown>[]).map((x) => x['id']), ['3']);
    const c1 = await get('/v1/markets/M1-USDC/candles?interval=1m');
    assert.deepEqual((c1.body['candles'] as unknown[][]).map((row) => row.map(Number)), [[T0, 1, 1, 1, 1, 0.004], [T0 + 120_000, 1, 1, 1, 1, 0.006]]);
    const c5 = await get('/v1/markets/M1-USDC/candles?interval=5m');
    assert.equal((c5.body['candles'] as unknown[][]).length, 1);
    assert.equal(Number((c5.body['candles'] as unknown[][])[0]![5]), 0.01);
    assert.deepEqual(c5.body['asOf'], mergedAsOf);
  });

  it('refuses bad paging parameters with a 400 naming the field', async () => {
    const h = await loginHeaders(alice);
    for (const [path, field] of [
      ['/v1/orders/closed?limit=0', 'limit'],
      ['/v1/orders/closed?limit=1001', 'limit'],
      ['/v1/orders/fills?before=-1', 'before'],
      ['/v1/orders/fills?before=1e3', 'before'],
    ] as const) {
      const r = await get(path, h);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body['error'] as { code: string }).code, 'INVALID_FIELD');
      assert.match((r.body['error'] as { message: string }).message, new RegExp(field), path);
    }
    const unknown = await get('/v1/orders/closed?market=NOPE', h);
    assert.equal((unknown.body['error'] as { code: string }).code, 'UNKNOWN_MARKET');
    const t = await get('/v1/markets/M1-USDC/trades?before=x');
    assert.equal(t.status, 400);
  });
});
