// The read model against the live risk shards it mirrors, on real parts: requests and chain events go through
// RiskShards and a real matching engine (its Nest app) on the embedded log or the Kafka broker, and the
// projector (its Nest app) writes a throw-away PostgreSQL database. After deposits, orders that trade, and
// withdrawals, every balance row equals the live shard's ledger to the base unit (all nine fields, the deficit too), the
// projection's state hash equals the shard's, every deposit and withdrawal is one row; a restarted projector
// resumes from its rows without counting an entry twice (only the new entries are applied, the rest are
// skipped as redeliveries) and a stale writer is fenced.
// The market read model on the same run: every order, trade and 1-minute candle row equals a single-pass fold of
// the whole market-events log, open orders equal the live shards' open orders, the registry maps every order to
// its shard's trader; a replay of the whole log by a second instance changes no row; the group offsets in the
// log equal the positions in the database (a restart reads on from there).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeChainEventBatch, encodeRiskRequestBatch, type ChainEvent, type ClientRequest } from '@parallax/contracts';
import { startMatchingEngine, type MatchingEngineConfig } from '@parallax/matching-engine';
import { ConfigError, createLogger } from '@parallax/observability';
import { Prng } from '@parallax/order-book';
import { createEmbeddedPrismaClient, createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@parallax/persistence';
import { shardForAccount, type Address, type RiskEngine } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import { RiskShards, type RiskShardsConfig } from '@parallax/risk-service';
import { drained, readPartitions, testPipelineConfigs } from '@parallax/risk-service/testing';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '@parallax/transport';
import { startProjector, type ProjectorHandle } from './app/projector.app.js';
import type { ProjectorServiceConfig } from './config/projector.config.js';
import { MarketProjection } from './market/market-projection.js';
import { MarketProjector } from './market/market-projector.service.js';
import { ProjectorError } from './projection/projector.errors.js';
import { MarketStore } from './store/market.store.js';
import { ProjectionStore } from './store/projection.store.js';

const SHARDS = 2;
const P = 2;
const MARKETS = [1, 2, 3, 4].map((id) => testMarket(id, { maker: -50, taker: 300 }));
const TOKENS = [QUOTE, ...MARKETS.map((m) => m.baseToken)];
const kafkaBrokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function configs(run: string): { risk: RiskShardsConfig; engine: MatchingEngineConfig; projector: ProjectorServiceConfig } {
  const { risk, engine } = testPipelineConfigs(run, { shards: SHARDS, marketPartitions: P, markets: MARKETS });
  const projector: ProjectorServiceConfig = {
    kafkaBrokers: undefined,
    kafkaClientId: run,
    kafkaConsumer: {},
    logLevel: 'warn',
    logFormat: 'json',
    databaseUrl: 'set by the test',
    dataDir: undefined,
    http: { host: '127.0.0.1', port: 0 },
    projector: { groupId: `${run}-projector`, inputs: risk.inputs, journal: risk.state.journal, shards: SHARDS, marketPartitions: P, markets: MARKETS, maxBatchMessages: 7, snapshotEveryEntries: 25 },
    marketEvents: { groupId: `${run}-projector-markets`, marketEvents: engine.topics.marketEvents, signedOrders: risk.signedOrdersTopic, partitions: P, maxBatchMessages: 7 },
  };
  return { risk, engine, projector };
}

const prng = (seed: number): (() => number) => {
  const p = new Prng(seed);
  return () => p.nextFloat();
};

/** Waits until `done` holds three polls in a row (the pipeline is asynchronous), failing fast on a stopped service. */
async function until(what: string, done: () => Promise<boolean> | boolean, failures: readonly unknown[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let stable = 0; stable < 3; ) {
    if (failures.length > 0) throw new Error(`a service stopped: ${String(failures[0])}`);
    stable = (await done()) ? stable + 1 : 0;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const metric = async (url: string, name: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
};

async function scenario(t: Transport, run: string, db: { readonly url: string | undefined }, prisma: PrismaClient): Promise<void> {
  const c = configs(run);
  c.projector = { ...c.projector, databaseUrl: db.url };
  const log = createLogger('projector-int-test', 'warn');
  const shards = new RiskShards(c.risk, t);
  await shards.start();
  const engine = await startMatchingEngine(c.engine, t, { logger: log });
  const failures: unknown[] = [];
  shards.stopped.catch((e: unknown) => failures.push(['risk', e]));
  engine.stopped.catch((e: unknown) => failures.push(['engine', e]));
  const producer = await t.producer();
  const store = new ProjectionStore(prisma);
  let projector: ProjectorHandle | undefined;
  const engines = (): RiskEngine[] => [0, 1].map((s) => shards.shard(s)!.engine);
  let sentTransfers = 0;
  const send = async (requests: readonly ClientRequest[]): Promise<void> => {
    await producer.send(
      c.risk.inputs.requests,
      requests.map((r) => ({ key: r.account, partition: shardForAccount(r.account, SHARDS), value: encodeRiskRequestBatch({ sentAtMs: Date.now(), requests: [r] }) })),
    );
  };
  const chain = async (events: readonly ChainEvent[]): Promise<void> => {
    sentTransfers += events.filter((e) => e.type === 'deposit' || e.type.startsWith('withdrawal')).length;
    await producer.send(
      c.risk.inputs.chainEvents,
      events.map((e) => ({ key: e.account, partition: shardForAccount(e.account, SHARDS), value: encodeChainEventBatch({ sentAtMs: Date.now(), events: [e] }) })),
    );
  };
  const startOne = async (): Promise<ProjectorHandle> => {
    const p = await startProjector(c.projector, t, { prisma, logger: log });
    p.stopped.catch((e: unknown) => failures.push(['projector', e]));
    return p;
  };
  /** The projection of every shard is at the live shard's state (same hash). */
  const caughtUp = (p: ProjectorHandle) => (): boolean => {
    const live = engines().map((e) => e.stateHash());
    const st = p.projector.status();
    return st.length === SHARDS && st.every((s) => s.stateHash === live[s.shard] && s.halted === null);
  };
  /** Every balance row equals the live ledger, and every non-zero live balance has its row. */
  const checkRows = async (): Promise<{ rows: number; held: bigint }> => {
    let rows = 0;
    let held = 0n;
    for (const [s, e] of engines().entries()) {
      for (const a of e.accountAddresses()) {
        const got = new Map((await store.balances(a)).map((r) => [r.token, r]));
        for (const token of TOKENS) {
          const want = e.balance(a, token);
          const r = got.get(token);
          if (r === undefined) {
            assert.deepEqual(Object.values(want).filter((v) => v !== 0n), [], `${a} ${token}: no row for a non-zero balance`);
            continue;
          }
          rows++;
          held += r.heldOrders;
          assert.equal(r.shard, s);
          const { onchain, available, heldOrders, heldWithdrawals, withdrawalShortfall, unsettledIn, unsettledOut, feesOwed, deficit } = r;
          assert.deepEqual({ onchain, available, heldOrders, heldWithdrawals, withdrawalShortfall, unsettledIn, unsettledOut, feesOwed, deficit }, want, `${a} ${token}`);
        }
      }
    }
    return { rows, held };
  };
  const markets = new MarketStore(prisma);
  const mc = c.projector.marketEvents!;
  /** No message waits past the market group's offsets, and the group's offsets in the log are the database's. */
  const marketsCaughtUp = async (): Promise<boolean> => {
    if (!(await drained(t, [[mc.marketEvents, mc.groupId], [mc.signedOrders, mc.groupId]]))) return false;
    for (const topic of [mc.marketEvents, mc.signedOrders]) {
      const [stored, committed] = await Promise.all([markets.offsets(topic), t.committedOffsets(mc.groupId, topic)]);
      if (stored.size === 0 || JSON.stringify([...stored].sort()) !== JSON.stringify([...committed].sort())) return false;
    }
    return true;
  };
  const marketRows = async (): Promise<string> => {
    const [orders, trades, candles, cursors] = await Promise.all([
      prisma.marketOrder.findMany({ orderBy: [{ marketId: 'asc' }, { orderId: 'asc' }] }),
      prisma.marketTrade.findMany({ orderBy: [{ marketId: 'asc' }, { seq: 'asc' }] }),
      prisma.marketCandle.findMany({ orderBy: [{ marketId: 'asc' }, { start: 'asc' }] }),
      prisma.projectorMarket.findMany({ orderBy: { marketId: 'asc' } }),
    ]);
    return JSON.stringify({ orders, trades, candles, cursors }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  };
  /** Every row equals one fold of the whole log; open orders equal the shards'; the registry names each order's trader. */
  const checkMarkets = async (): Promise<{ orders: number; trades: number; events: number }> => {
    const oracle = new MarketProjection().fold((await readPartitions(t, mc.marketEvents, P)).flat());
    assert.deepEqual(oracle.gaps, []);
    assert.deepEqual(oracle.unreadable, []);
    const orders = await prisma.marketOrder.findMany({ orderBy: [{ marketId: 'asc' }, { orderId: 'asc' }] });
    const want = [...oracle.orders].sort((a, b) => a.marketId - b.marketId || a.orderId - b.orderId);
    assert.deepEqual(
      orders.map((o) => [o.marketId, Number(o.orderId), Number(o.accountId), o.side, o.orderType, o.tif, o.priceTicks === null ? null : Number(o.priceTicks), Number(o.sizeLots), Number(o.filledLots), o.notional.toFixed(0), o.status, o.reason, Number(o.createdTs), Number(o.updatedTs), Number(o.seq), Number(o.updatedSeq)]),
      want.map((o) => [o.marketId, o.orderId, o.accountId, o.side, o.orderType, o.tif, o.price, o.size, o.filled, o.notional.toString(), o.status, o.reason, o.createdTs, o.updatedTs, o.seq, o.updatedSeq]),
    );
    const trades = await prisma.marketTrade.findMany({ orderBy: [{ marketId: 'asc' }, { seq: 'asc' }] });
    assert.deepEqual(trades.map((x) => [x.marketId, Number(x.seq), Number(x.sizeLots)]), oracle.trades.map((x) => [x.marketId, x.seq, x.size]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!));
    const candles = await prisma.marketCandle.findMany({ orderBy: [{ marketId: 'asc' }, { start: 'asc' }] });
    assert.deepEqual(
      candles.map((x) => [x.marketId, Number(x.start), Number(x.openTicks), Number(x.highTicks), Number(x.lowTicks), Number(x.closeTicks), Number(x.volumeLots), x.trades]),
      oracle.candles.map((x) => [x.marketId, x.start, x.open, x.high, x.low, x.close, x.volume, x.trades]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!),
    );
    // Independent of the fold: the live shards' open orders, with their remaining lots.
    const liveOpen = engines().flatMap((e) => e.openOrders().map((o) => `${o.marketId}/${o.orderId}/${o.remainingLots}`)).sort();
    assert.deepEqual(orders.filter((o) => o.status === 'open').map((o) => `${o.marketId}/${o.orderId}/${o.sizeLots - o.filledLots}`).sort(), liveOpen);
    // The registry: each order's account id is its shard's trader, and the trader's reads return exactly its rows.
    const registry = new Map((await prisma.accountId.findMany()).map((r) => [Number(r.accountId), r.address]));
    for (const o of orders) {
      const id = Number(o.accountId);
      const address = engines()[id % SHARDS]!.accountAddress(id);
      assert.equal(registry.get(id), address, `account ${id}`);
    }
    for (const trader of new Set(registry.values())) {
      const ids = [...registry].filter(([, a]) => a === trader).map(([id]) => id);
      const closed = await markets.closedOrders(trader, { limit: 10_000 });
      assert.equal(closed.length, orders.filter((o) => ids.includes(Number(o.accountId)) && o.status !== 'open').length);
      assert.ok(closed.every((o) => o.trader === trader));
      const fills = await markets.fills(trader, { limit: 10_000 });
      assert.equal(fills.length, trades.filter((x) => ids.includes(Number(x.makerAccountId))).length + trades.filter((x) => ids.includes(Number(x.takerAccountId))).length);
    }
    return { orders: orders.length, trades: trades.length, events: oracle.events };
  };
  try {
    const traders = Array.from({ length: 10 }, (_, i) => accountAddress(i + 1));
    await chain(traders.flatMap((a) => TOKENS.map((token) => ({ type: 'deposit', account: a, token, amount: token === QUOTE ? 3_000_000n : 10n ** 18n }) as const)));
    const rnd = prng(5);
    const nonces = new Map<Address, bigint>();
    let ts = 1_000;
    for (let round = 0; round < 15; round++) {
      const reqs: ClientRequest[] = [];
      for (let i = 0; i < 16; i++) {
        const a = traders[Math.floor(rnd() * traders.length)]!;
        const nonce = (nonces.get(a) ?? 0n) + 1n;
        nonces.set(a, nonce);
        const m = MARKETS[Math.floor(rnd() * MARKETS.length)]!;
        reqs.push(placeRequest(a, m, { ts: ts++, isBuy: rnd() < 0.5, priceTicks: 100 + Math.floor(rnd() * 9) - 4, lots: 1 + Math.floor(rnd() * 15), nonce }));
      }
      await send(reqs);
      if (round === 7) {
        // A withdrawal requested and executed on chain, one refused (more than the account holds).
        await chain([
          { type: 'withdrawalRequested', ts: ts++, account: traders[0]!, token: QUOTE, amount: 250_000n },
          { type: 'withdrawalExecuted', account: traders[0]!, token: QUOTE, amount: 250_000n },
          { type: 'withdrawalExecuted', account: traders[1]!, token: QUOTE, amount: 10n ** 20n },
        ]);
      }
      await sleep(10);
    }
    await until('risk shards and engine drained', () => drainedRisk(t, c.risk, c.engine.groupId), failures);

    projector = await startOne();
    await until('the projection caught up with the shards', caughtUp(projector), failures);
    const first = await checkRows();
    assert.ok(first.rows >= traders.length * TOKENS.length, `only ${first.rows} rows`);
    assert.ok(first.held > 0n, 'open orders hold funds');
    const unsettled = engines().reduce((n, e) => n + e.accountAddresses().reduce((m, a) => m + e.balance(a, QUOTE).unsettledIn, 0n), 0n);
    assert.ok(unsettled > 0n, 'fills moved funds (unsettled amounts)');
    const transfers = (await Promise.all(traders.map((a) => store.transfers(a)))).flat();
    assert.equal(transfers.length, sentTransfers);
    assert.deepEqual(transfers.filter((x) => x.refused !== null).map((x) => [x.account, x.kind, x.refused]), [[traders[1], 'WITHDRAWAL_EXECUTED', 'WITHDRAWAL_NOT_COVERED']]);
    assert.equal((await store.balances(traders[0]!)).find((r) => r.token === QUOTE)!.onchain, 3_000_000n - 250_000n);
    assert.equal((await fetch(`${projector.url}/ready`)).status, 200);
    assert.ok((await metric(projector.url, 'parallax_projector_rows_written_total')) >= first.rows);
    const seqBefore = projector.projector.status().reduce((n, s) => n + s.journalSeq, 0);
    // The journal's group offsets in the log become the rows' positions (committed in the background, at most a
    // second behind the rows): a restart reads on from there.
    const p1 = projector;
    await until('the journal offsets committed to the log', async () => {
      const committed = await t.committedOffsets(c.projector.projector.groupId, c.risk.state.journal);
      return p1.projector.status().every((st) => committed.get(st.shard) === st.journalNext);
    }, failures);

    await until('the market read model caught up', marketsCaughtUp, failures);
    const m1 = await checkMarkets();
    assert.ok(m1.trades > 0 && m1.orders > m1.trades / 2, `${m1.orders} orders, ${m1.trades} trades`);
    assert.ok(((await markets.asOf()).markets['1']?.seq ?? 0) > 0);
    // A replay of the whole log (a second instance, new group, stored offsets forgotten): every event is at or
    // below its market's cursor, and no row changes.
    const rowsBefore = await marketRows();
    const offsetsBefore = await prisma.projectorOffset.findMany({ orderBy: [{ topic: 'asc' }, { partition: 'asc' }] });
    await prisma.projectorOffset.deleteMany({});
    let replayed = 0;
    let applied = 0;
    const replay = new MarketProjector({ ...mc, groupId: `${mc.groupId}-replay` }, t, markets, {
      committed: (_topic, _p, step) => {
        if ('accounts' in step) return;
        replayed += step.duplicates;
        applied += step.events;
      },
    });
    await replay.start();
    try {
      await until('the replay read both topics', async () => (await prisma.projectorOffset.count()) === offsetsBefore.length && replayed === m1.events, failures);
    } finally {
      await replay.close();
    }
    assert.equal(applied, 0);
    assert.equal(await marketRows(), rowsBefore);
    assert.deepEqual((await prisma.projectorOffset.findMany({ orderBy: [{ topic: 'asc' }, { partition: 'asc' }] })).map((o) => [o.topic, o.partition, o.next]), offsetsBefore.map((o) => [o.topic, o.partition, o.next]));
    // Some shard's rows are ahead of its stored snapshot: the restart below replays from the snapshot.
    const rowsAhead = (await Promise.all([0, 1].map((s) => store.load(s)))).some((r) => r !== null && r.snapshot.journalNext < r.journalNext);
    assert.ok(rowsAhead, 'the snapshot is stored every 25 entries, not with every batch');
    await projector.close();
    projector = undefined;

    // More flow while no projector runs: cancel every open order (holds released), then a restart resumes.
    const cancels: ClientRequest[] = [];
    for (const e of engines()) for (const o of e.openOrders()) if (!o.cancelRequested) cancels.push({ type: 'cancel', ts: ts++, account: e.accountAddress(o.accountId)!, signer: e.accountAddress(o.accountId)!, orderId: o.orderId });
    assert.ok(cancels.length > 0);
    await send(cancels);
    await chain([{ type: 'deposit', account: traders[2]!, token: QUOTE, amount: 7n }]);
    await until('risk shards and engine drained', () => drainedRisk(t, c.risk, c.engine.groupId), failures);
    await until('no open orders', () => engines().every((e) => e.openOrderCount === 0), failures);

    projector = await startOne();
    await until('the restarted projection caught up', caughtUp(projector), failures);
    const second = await checkRows();
    assert.equal(second.held, 0n, 'every hold released in the read model too');
    const seqAfter = projector.projector.status().reduce((n, s) => n + s.journalSeq, 0);
    // Only the new entries were applied; everything below the stored position was skipped, not re-counted.
    assert.equal(await metric(projector.url, 'parallax_projector_entries_total'), seqAfter - seqBefore);
    assert.ok(seqAfter > seqBefore);
    assert.equal((await Promise.all(traders.map((a) => store.transfers(a)))).flat().length, sentTransfers);
    await until('the market read model caught up after the restart', marketsCaughtUp, failures);
    const m2 = await checkMarkets();
    assert.equal(await prisma.marketOrder.count({ where: { status: 'open' } }), 0);
    // Only the new events were applied after the restart.
    assert.equal(await metric(projector.url, 'parallax_projector_market_events_total'), m2.events - m1.events);

    // A stale writer (a zombie projecting from an old position) is fenced, and nothing it carried is written.
    const row = (await store.load(0))!;
    const fake = { journalNext: row.journalNext + 1, journalSeq: row.journalSeq + 1, inputs: row.inputs, journalOffset: row.journalNext, entries: 1, duplicates: 0, transfers: [], balances: [{ account: traders[0]!, token: QUOTE, balance: { ...engines()[0]!.balance(traders[0]!, QUOTE), available: 1n } }] };
    await assert.rejects(store.commit(0, SHARDS, row.journalNext - 1, fake, { bytes: row.state, hash: row.stateHash }), (e: unknown) => e instanceof ProjectorError && e.code === 'PROJECTOR_FENCED');
    await checkRows();
  } finally {
    await projector?.close();
    await producer.close();
    await shards.close();
    await engine.close();
  }
}

/** No data message waits between the risk group's (the engine's) committed offsets and the ends of their inputs. */
const drainedRisk = (t: Transport, c: RiskShardsConfig, engineGroup: string): Promise<boolean> =>
  drained(t, [...[c.inputs.requests, c.inputs.chainEvents, c.inputs.accountEvents].map((topic) => [topic, c.groupId] as const), [c.ordersTopic, engineGroup] as const]);

describe('projector on real parts', () => {
  const transports: Transport[] = [];
  let db: TestDatabase;
  let prisma: PrismaClient;
  before(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
  });
  after(async () => {
    for (const t of transports) await t.close();
    await prisma.$disconnect();
    await db.drop();
  });

  it('embedded log + PostgreSQL: balances equal the live shards, restart resumes without double counting', { timeout: 180_000 }, async () => {
    const t = createEmbeddedTransport();
    transports.push(t);
    await scenario(t, `proj-emb-${process.pid}`, db, prisma);
  });

  it('refuses to start on topics of another shard count (ACCOUNT_SHARDS named)', async () => {
    const t = createEmbeddedTransport();
    transports.push(t);
    const c = configs(`proj-count-${process.pid}`);
    await t.ensureTopics([{ name: c.risk.state.journal, partitions: SHARDS }]);
    const three = { ...c.projector, databaseUrl: db.url, projector: { ...c.projector.projector, shards: 3 } };
    await assert.rejects(startProjector(three, t, { prisma }), (e: unknown) => e instanceof ConfigError && e.message.includes('ACCOUNT_SHARDS'));
  });

  it('embedded log + embedded PGlite: the same', { timeout: 180_000 }, async () => {
    const t = createEmbeddedTransport();
    transports.push(t);
    const pglite = await createEmbeddedPrismaClient();
    try {
      await scenario(t, `proj-pglite-${process.pid}`, { url: undefined }, pglite);
    } finally {
      await pglite.$disconnect();
    }
  });

  it('Kafka + PostgreSQL: balances equal the live shards, restart resumes without double counting', { timeout: 300_000 }, async () => {
    // A fresh database: the first run's rows share the account addresses.
    await prisma.$executeRawUnsafe('TRUNCATE projector_shards, account_balances, account_transfers, market_orders, market_trades, market_candles, account_ids, projector_markets, projector_offsets');
    const t = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: `projector-it-${process.pid}` });
    transports.push(t);
    await scenario(t, `proj-kafka-${process.pid}-${Date.now()}`, db, prisma);
  });
});
