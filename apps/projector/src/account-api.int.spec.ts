// GET /v1/account/balances and /transfers through the real gateway (HTTP, signed Login) over the projector's
// rows in a throw-away PostgreSQL database: the rows are a live shard's projection (deposits, an order holding
// funds, a withdrawal, a refused one, a fill the chain skipped that leaves a deficit). A trader reads exactly its own ledger; no Login, a forged or expired one
// is a 401 and reads nothing; a bad limit is a 400 naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SettlementMarket } from '@parallax/chain';
import { decodeCommandBatch, encodeAccountEventBatch, encodeChainEventBatch, encodeRiskRequestBatch, type ChainEvent } from '@parallax/contracts';
import { encodeEvents, EventCollector, OrderBook, TimeInForce } from '@parallax/order-book';
import { ensureReadModelTopics, readModelTopics, startReadModelGateway, type ReadModelGateway } from '@parallax/gateway/testing';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@parallax/persistence';
import { type Address } from '@parallax/risk';
import { placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import { AccountShard, encodeJournalEntry, type AccountShardOptions, type RiskSource } from '@parallax/risk-service';
import { createEmbeddedTransport, type ConsumedMessage, type EmbeddedTransport } from '@parallax/transport';
import { privateKeyToAccount } from 'viem/accounts';
import { ShardProjection } from './projection/shard-projection.js';
import { ProjectionStore } from './store/projection.store.js';

const MARKET = testMarket(1, { maker: -50, taker: 300 });
const INPUTS = { requests: 'requests', chainEvents: 'chain-events', accountEvents: 'account-events' } as const;
const options: AccountShardOptions = { risk: { shard: 0, shards: 1, markets: [MARKET] }, marketPartitions: 1, inputs: INPUTS };
const settlementMarket: SettlementMarket = { marketId: 1, baseToken: MARKET.baseToken, quoteToken: MARKET.quoteToken, lotSize: MARKET.lotSize, tickSize: MARKET.tickSize };
const topics = readModelTopics('acct');
const alice = privateKeyToAccount('0x1111111111111111111111111111111111111111111111111111111111111111');
const bob = privateKeyToAccount('0x2222222222222222222222222222222222222222222222222222222222222222');
const mallory = privateKeyToAccount('0x3333333333333333333333333333333333333333333333333333333333333333');
const carol = privateKeyToAccount('0x4444444444444444444444444444444444444444444444444444444444444444');

/** The last journal offset of the flow below (the entry every row reflects). */
let journalLast = -1;

describe('account endpoints over the read model', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  let log: EmbeddedTransport;
  let gateway: ReadModelGateway;
  let shard: AccountShard;

  before(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
    // A live shard's inputs and journal, projected into the database as the projector commits them.
    shard = new AccountShard(options);
    const inputs: Record<RiskSource, ConsumedMessage[]> = { requests: [], chainEvents: [], accountEvents: [] };
    const journal: ConsumedMessage[] = [];
    // The market's book: what the shard forwards is applied, and its reports come back as account events.
    const sink = new EventCollector();
    const book = new OrderBook({ marketId: MARKET.marketId, minSize: 0, minNotional: 0, maxOpenOrdersPerAccount: 0, priceBandBps: 0, initialReferencePrice: 0 }, sink);
    const feed = (source: RiskSource, value: Uint8Array, toBook = true): void => {
      const m = { topic: INPUTS[source], partition: 0, offset: inputs[source].length, key: null, value, timestamp: 1_764_000_000_000, headers: {} };
      inputs[source].push(m);
      const r = shard.process([m]);
      journal.push({ ...m, topic: 'journal', offset: journal.length, value: encodeJournalEntry({ shard: 0, ...r.entry! }) });
      if (!toBook) return;
      for (const out of r.orders) {
        for (const cmd of decodeCommandBatch(out.value).commands) book.apply(cmd);
        const events = sink.take();
        if (events.length > 0) feed('accountEvents', encodeAccountEventBatch({ marketId: MARKET.marketId, inputPartition: 0, inputOffset: 0, sentAtMs: 0, events: encodeEvents(events) }));
      }
    };
    const a = alice.address.toLowerCase() as Address;
    const b = bob.address.toLowerCase() as Address;
    const chain = (events: ChainEvent[]): void => {
      feed('chainEvents', encodeChainEventBatch({ sentAtMs: 0, events }));
    };
    chain([
      { type: 'deposit', account: a, token: QUOTE, amount: 1_000_000n },
      { type: 'deposit', account: a, token: MARKET.baseToken, amount: 10n ** 18n },
      { type: 'deposit', account: b, token: QUOTE, amount: 42n },
    ]);
    feed('requests', encodeRiskRequestBatch({ sentAtMs: 0, requests: [placeRequest(a, MARKET, { isBuy: true, priceTicks: 100, lots: 10, nonce: 1n })] }));
    chain([
      { type: 'withdrawalRequested', ts: 5, account: a, token: QUOTE, amount: 1_000n },
      { type: 'withdrawalExecuted', account: a, token: QUOTE, amount: 1_000n },
      { type: 'withdrawalExecuted', account: a, token: QUOTE, amount: 10n ** 12n },
    ]);
    // Bob buys 3 lots from Carol and commits them to a resting sell; the chain then skips that fill: the base
    // Bob received is taken back, his sell is cancelled to cover it (the cancel is not delivered here, so the
    // deficit stands and shows).
    const c = carol.address.toLowerCase() as Address;
    chain([
      { type: 'deposit', account: b, token: QUOTE, amount: 10_000n },
      { type: 'deposit', account: c, token: MARKET.baseToken, amount: 3n * MARKET.lotSize },
    ]);
    const requests = (rs: ReturnType<typeof placeRequest>[]): void => {
      feed('requests', encodeRiskRequestBatch({ sentAtMs: 0, requests: rs }));
    };
    requests([placeRequest(c, MARKET, { isBuy: false, priceTicks: 200, lots: 3, nonce: 1n })]);
    requests([placeRequest(b, MARKET, { isBuy: true, priceTicks: 200, lots: 3, nonce: 1n, tif: TimeInForce.IOC })]);
    requests([placeRequest(b, MARKET, { isBuy: false, priceTicks: 300, lots: 3, nonce: 2n })]);
    assert.equal(shard.engine.openOrderCount, 2, "Alice's buy and Bob's sell rest");
    feed('chainEvents', encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'settlementSkipped', account: b, token: MARKET.baseToken, received: 3n * MARKET.lotSize, paid: 0n, fees: 0n }] }), false);
    assert.equal(shard.engine.deficit(b, MARKET.baseToken), 3n * MARKET.lotSize);
    journalLast = journal.length - 1;
    const projection = new ShardProjection(0, options);
    const step = await projection.apply(journal, (s, from, to) => Promise.resolve(inputs[s].slice(from, to)));
    await new ProjectionStore(prisma).commit(0, 1, null, step, { bytes: projection.snapshot(), hash: projection.stateHash });

    log = createEmbeddedTransport();
    await ensureReadModelTopics(log, topics);
    gateway = await startReadModelGateway(log, topics, settlementMarket, { accountReadModel: new ProjectionStore(prisma) });
  });
  after(async () => {
    await gateway.app.close();
    await log.close();
    await prisma.$disconnect();
    await db.drop();
  });

  const loginHeaders: ReadModelGateway['loginHeaders'] = (...args) => gateway.loginHeaders(...args);
  const get: ReadModelGateway['get'] = (...args) => gateway.get(...args);

  it("serves the signed-in trader's balances and holds, exactly the shard's ledger", async () => {
    const r = await get('/v1/account/balances', await loginHeaders(alice));
    assert.equal(r.status, 200);
    const rows = r.body['balances'] as Record<string, unknown>[];
    const a = alice.address.toLowerCase() as Address;
    for (const token of [QUOTE, MARKET.baseToken]) {
      const want = shard.engine.balance(a, token);
      const got = rows.find((x) => x['token'] === token)!;
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], (v as bigint).toString(), `${token} ${k}`);
      assert.deepEqual(got['asOf'], { shard: 0, journalOffset: journalLast, journalEntry: journalLast + 1 });
      assert.equal(got['deficit'], '0');
    }
    const quote = rows.find((x) => x['token'] === QUOTE)!;
    assert.equal(quote['heldOrders'], '10003', 'the open buy holds 10 lots x 100 ticks x 10 units plus the highest fee, 300 millionths');
    assert.equal(quote['onchain'], '999000');
    // Bob's own Login reads Bob's ledger only, with the deficit the skipped fill left.
    const bobs = await get('/v1/account/balances', await loginHeaders(bob));
    const b = bob.address.toLowerCase() as Address;
    const bobRows = bobs.body['balances'] as Record<string, unknown>[];
    assert.deepEqual(
      bobRows.map((x) => x['token']),
      [QUOTE, MARKET.baseToken].sort(),
    );
    for (const got of bobRows) {
      const want = shard.engine.balance(b, got['token'] as Address);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], (v as bigint).toString(), `Bob ${String(got['token'])} ${k}`);
    }
    const base = bobRows.find((x) => x['token'] === MARKET.baseToken)!;
    assert.deepEqual([base['deficit'], base['available'], base['heldOrders']], [(3n * MARKET.lotSize).toString(), '0', (3n * MARKET.lotSize).toString()]);
  });

  it('serves deposits and withdrawals with the refused one marked, and bounds the limit', async () => {
    const h = await loginHeaders(alice);
    const r = await get('/v1/account/transfers', h);
    assert.equal(r.status, 200);
    const rows = (r.body['transfers'] as Record<string, unknown>[]).map((t) => [t['kind'], t['amount'], t['refused']]);
    assert.deepEqual(rows, [
      ['DEPOSIT', '1000000', null],
      ['DEPOSIT', '1000000000000000000', null],
      ['WITHDRAWAL_REQUESTED', '1000', null],
      ['WITHDRAWAL_EXECUTED', '1000', null],
      ['WITHDRAWAL_EXECUTED', '1000000000000', 'WITHDRAWAL_NOT_COVERED'],
    ]);
    assert.equal(((await get('/v1/account/transfers?limit=2', h)).body['transfers'] as unknown[]).length, 2);
    for (const bad of ['0', '501', '-1', 'x', '1e2']) {
      const res = await get(`/v1/account/transfers?limit=${bad}`, h);
      assert.equal(res.status, 400, bad);
      assert.equal((res.body['error'] as { code: string }).code, 'INVALID_FIELD');
    }
  });

  it('reads nothing without a valid Login of the trader', async () => {
    for (const path of ['/v1/account/balances', '/v1/account/transfers']) {
      assert.equal((await get(path)).status, 401);
      // Mallory's signature presented as Alice's Login.
      const forged = await get(path, await loginHeaders(mallory, alice.address));
      assert.equal(forged.status, 401, JSON.stringify(forged.body));
      assert.equal(forged.body['balances'] ?? forged.body['transfers'], undefined);
      const expired = await get(path, await loginHeaders(alice, alice.address, BigInt(Math.floor(Date.now() / 1000) - 10)));
      assert.equal(expired.status, 401);
    }
  });
});
