// GET /v1/account/balances and /transfers through the real gateway (HTTP, signed Login) over the projector's
// rows in a throw-away PostgreSQL database: the rows are a live shard's projection (deposits, an order holding
// funds, a withdrawal, a refused one). A trader reads exactly its own ledger; no Login, a forged or expired one
// is a 401 and reads nothing; a bad limit is a 400 naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SettlementMarket } from '@parallax/chain';
import { encodeChainEventBatch, encodeRiskRequestBatch, type ChainEvent } from '@parallax/contracts';
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
    const feed = (source: RiskSource, value: Uint8Array): void => {
      const m = { topic: INPUTS[source], partition: 0, offset: inputs[source].length, key: null, value, timestamp: 1_764_000_000_000, headers: {} };
      inputs[source].push(m);
      const r = shard.process([m]);
      journal.push({ ...m, topic: 'journal', offset: journal.length, value: encodeJournalEntry({ shard: 0, ...r.entry! }) });
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
      assert.deepEqual(got['asOf'], { shard: 0, journalOffset: 2, journalEntry: 3 });
    }
    const quote = rows.find((x) => x['token'] === QUOTE)!;
    assert.equal(quote['heldOrders'], '10003', 'the open buy holds 10 lots x 100 ticks x 10 units plus the highest fee, 300 millionths');
    assert.equal(quote['onchain'], '999000');
    // Bob's own Login reads Bob's ledger only.
    const bobs = await get('/v1/account/balances', await loginHeaders(bob));
    assert.deepEqual((bobs.body['balances'] as Record<string, unknown>[]).map((x) => [x['token'], x['available']]), [[QUOTE, '42']]);
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
