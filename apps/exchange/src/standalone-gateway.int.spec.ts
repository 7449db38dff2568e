// The gateway as deployed (its own bootstrap from the environment, DATABASE_URL set: apps/gateway standalone.ts,
// what main.ts runs) beside the rest of the stack on real Kafka and PostgreSQL: the launcher runs the engines,
// risk shards, chain watcher, settlement and the projector under a namespace, writing the read models into a
// throw-away database. Traders fund and trade through standalone gateway A. A second, fresh standalone gateway
// B follows empty market-events and signed-orders topics, so it holds no order, trade or candle in memory:
// its closed orders, orders by id and by client order id, fills, trades, candles, balances and transfers can only come from
// PostgreSQL, each with `asOf` naming what the rows reflect. A gateway whose database has no read-model tables
// yet is not ready (503 naming them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localTraderAccount } from '@parallax/chain';
import { loadGatewayConfig, loadStandaloneConfig, startStandaloneGateway, type StandaloneGateway } from '@parallax/gateway';
import { until } from '@parallax/gateway/testing';
import { createLogger } from '@parallax/observability';
import { createTestDatabase, type TestDatabase } from '@parallax/persistence';
import { ParallaxClient } from '@parallax/sdk';
import { createKafkaTransport } from '@parallax/transport';
import { fundThroughRisk } from './testing/fund.js';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';

const M = 'M1-USDC';
const PARTITIONS = 2;
const brokerList = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const quiet = createLogger('standalone-gateway-test', 'silent');
type Json = Record<string, unknown>;

describe('a standalone gateway reads its REST history from PostgreSQL', { timeout: 600_000 }, () => {
  const namespace = `gwdb-${Date.now()}`;
  let db: TestDatabase;
  let exchange: RunningExchange | undefined;
  let a: StandaloneGateway | undefined;
  let b: StandaloneGateway | undefined;
  let maker: ParallaxClient;
  let taker: ParallaxClient;
  let makerOrderId: string;
  let takerOrderId: string;

  /** The deployment's variables for a gateway of this launch, as compose / k8s set them. */
  const gatewayEnv = (overrides: Record<string, string>): Record<string, string> => {
    const x = exchange!;
    const chain = x.localChain!;
    const names = x.names;
    return {
      KAFKA_BROKERS: brokerList,
      MARKETS: '2',
      PARTITIONS: String(PARTITIONS),
      ACCOUNT_SHARDS: String(x.risk!.shards),
      TOPIC_REQUESTS: x.risk!.topics.requests,
      TOPIC_RISK_RESULTS: x.risk!.resultsTopic,
      TOPIC_CHAIN_EVENTS: x.risk!.topics.chainEvents,
      TOPIC_MARKET_EVENTS: names.topics.marketEvents,
      TOPIC_SIGNED_ORDERS: names.settlementTopics.signedOrders,
      TOPIC_SETTLEMENT_STATUS: names.settlementTopics.settlementStatus,
      CHAIN_ID: String(chain.chain.domain.chainId),
      SETTLEMENT_ADDRESS: chain.chain.domain.verifyingContract,
      SETTLEMENT_MARKETS: JSON.stringify(chain.markets.map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }))),
      MAKER_FEE_RATE: String(x.settlement?.config.fees.makerFeeRate ?? 0),
      TAKER_FEE_RATE: String(x.settlement?.config.fees.takerFeeRate ?? 0),
      DATABASE_URL: db.url,
      ...overrides,
    };
  };
  const startStandalone = (instance: number, env: Record<string, string>): Promise<StandaloneGateway> =>
    startStandaloneGateway(
      loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_INSTANCE: String(instance), GATEWAY_RATE_LIMIT_ACCOUNT: '100000', GATEWAY_RATE_LIMIT_IP: '1000000' }),
      loadStandaloneConfig(env),
      { logger: quiet, shutdownHooks: false },
    );
  const get = async (url: string, path: string, client?: ParallaxClient): Promise<{ status: number; body: Json }> => {
    const headers: Record<string, string> = {};
    if (client !== undefined) {
      const l = await client.login();
      Object.assign(headers, { 'x-parallax-trader': l.trader, 'x-parallax-expiry': l.expiry, 'x-parallax-nonce': l.nonce, 'x-parallax-signature': l.signature });
    }
    const res = await fetch(`${url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Json };
  };

  before(async () => {
    db = await createTestDatabase();
    exchange = await startExchange(
      loadExchangeConfig({
        KAFKA_BROKERS: brokerList,
        EXCHANGE_NAMESPACE: namespace,
        EXCHANGE_ENGINES: '1',
        PARTITIONS: String(PARTITIONS),
        MARKETS: '2',
        EXCHANGE_BOTS: 'false',
        GATEWAY_PORT: '0',
        ENGINE_HTTP_PORT_BASE: '0',
        SETTLEMENT_HTTP_PORT: '0',
        DATABASE_URL: db.url,
      }),
      quiet,
    );
    a = await startStandalone(1, gatewayEnv({}));
    maker = new ParallaxClient({ url: a.url, account: localTraderAccount(namespace, 1) });
    taker = new ParallaxClient({ url: a.url, account: localTraderAccount(namespace, 2) });
    await fundThroughRisk(exchange, [maker.trader, taker.trader], {}, brokerList.split(','));
    const ask = await maker.placeOrder(M, { side: 'sell', type: 'limit', price: '100.00', amount: '2', maxFeeRate: 2_000, clientOrderId: 'gwdb-ask' }, 'result');
    assert.equal(ask.order?.status, 'open', JSON.stringify(ask));
    const buy = await taker.placeOrder(M, { side: 'buy', type: 'limit', price: '100.00', amount: '1.5', maxFeeRate: 2_000, timeInForce: 'IOC', clientOrderId: 'gwdb-buy' }, 'result');
    assert.equal(buy.order?.status, 'filled', JSON.stringify(buy));
    makerOrderId = ask.order.id;
    takerOrderId = buy.order.id;

    // B: a fresh instance whose market-events and signed-orders topics are empty (as if the log had expired):
    // nothing it answers below can come from its memory.
    const admin = createKafkaTransport({ brokers: brokerList.split(','), clientId: `${namespace}-admin` });
    try {
      await admin.ensureTopics([`${namespace}.empty-events`, `${namespace}.empty-signed`].map((name) => ({ name, partitions: PARTITIONS })));
    } finally {
      await admin.close();
    }
    b = await startStandalone(2, gatewayEnv({ TOPIC_MARKET_EVENTS: `${namespace}.empty-events`, TOPIC_SIGNED_ORDERS: `${namespace}.empty-signed` }));
  });

  after(async () => {
    try {
      await b?.close();
      await a?.close();
    } finally {
      try {
        await exchange?.close();
      } finally {
        await (db as TestDatabase | undefined)?.drop();
      }
    }
  });

  it('is ready with its database; a fresh instance answers order history, order by id and client order id, fills, trades and candles from the rows with asOf', async () => {
    const url = b!.url;
    assert.equal((await fetch(`${url}/ready`)).status, 200);
    // The projector commits asynchronously: wait until the taker's order is in the rows.
    const closed = await until(
      'the projector to write the trade',
      async () => {
        const r = await get(url, '/v1/orders/closed', taker);
        return (r.body['orders'] as Json[] | undefined)?.some((o) => o['id'] === takerOrderId) === true ? r : undefined;
      },
      120_000,
    );
    assert.equal(closed.status, 200);
    const asOf = closed.body['asOf'] as { source: string; markets: Record<string, { seq: number }>; gateway: Record<string, { seq: number }> };
    assert.equal(asOf.source, 'read-model');
    assert.ok(asOf.markets[M]!.seq > 0, JSON.stringify(asOf));
    assert.equal(asOf.gateway[M]!.seq, 0, 'B follows an empty events topic: its memory holds nothing');
    const mine = (closed.body['orders'] as Json[]).find((o) => o['id'] === takerOrderId)!;
    assert.deepEqual([mine['status'], mine['side'], mine['filled'], mine['average'], mine['trader']], ['filled', 'buy', '1.500', '100.00', taker.trader.toLowerCase()]);

    const byId = await get(url, `/v1/orders/${M}/${makerOrderId}`, maker);
    assert.equal(byId.status, 200, JSON.stringify(byId.body));
    assert.deepEqual([byId.body['status'], byId.body['filled'], byId.body['remaining']], ['open', '1.500', '0.500']);
    assert.equal((byId.body['asOf'] as { source: string }).source, 'read-model');
    // By the client order id the maker gave it: B never saw the order, the id reached the rows through the log.
    const byClient = await get(url, `/v1/orders/${M}/client/gwdb-ask`, maker);
    assert.equal(byClient.status, 200, JSON.stringify(byClient.body));
    assert.deepEqual([byClient.body['id'], byClient.body['status'], byClient.body['filled']], [makerOrderId, 'open', '1.500']);
    assert.equal((byClient.body['asOf'] as { source: string }).source, 'read-model');
    const takersClient = await get(url, `/v1/orders/${M}/client/gwdb-buy`, taker);
    assert.deepEqual([takersClient.status, takersClient.body['id'], takersClient.body['status']], [200, takerOrderId, 'filled']);
    // Not another trader's, by id or by client id, from the rows either.
    const notHisByClient = await get(url, `/v1/orders/${M}/client/gwdb-ask`, taker);
    assert.equal(notHisByClient.status, 404);
    assert.equal((notHisByClient.body['error'] as { code: string }).code, 'ORDER_NOT_FOUND');
    const notHis = await get(url, `/v1/orders/${M}/${makerOrderId}`, taker);
    assert.equal(notHis.status, 404);
    assert.equal((notHis.body['error'] as { code: string }).code, 'ORDER_NOT_FOUND');

    const fills = await get(url, '/v1/orders/fills', taker);
    assert.equal(fills.status, 200);
    assert.deepEqual(
      (fills.body['fills'] as Json[]).map((f) => [f['orderId'], f['takerOrMaker'], f['side'], f['price'], f['amount']]),
      [[takerOrderId, 'taker', 'buy', '100.00', '1.500']],
    );
    assert.equal((fills.body['asOf'] as { source: string }).source, 'read-model');
    // Settlement's per-fill status comes from the same database (pending until a batch takes it).
    assert.ok(['pending', 'batched', 'settled'].includes(String(((fills.body['fills'] as Json[])[0]!['settlement'] as Json)['status'])));

    const trades = await get(url, `/v1/markets/${M}/trades?limit=10`);
    assert.deepEqual((trades.body['trades'] as Json[]).map((t) => [t['side'], t['price'], t['amount']]), [['buy', '100.00', '1.500']]);
    assert.equal((trades.body['asOf'] as { source: string }).source, 'read-model');

    const candles = await get(url, `/v1/markets/${M}/candles?interval=1m`);
    const rows = candles.body['candles'] as string[][];
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.deepEqual(rows[0]!.slice(1).map(Number), [100, 100, 100, 100, 1.5]);
    assert.equal((candles.body['asOf'] as { source: string }).source, 'read-model');
  });

  it('serves balances and transfers from the rows, each with the journal entry it reflects', async () => {
    const url = b!.url;
    const balances = await until(
      "the projector to reflect the maker's resting order",
      async () => {
        const r = await get(url, '/v1/account/balances', maker);
        const list = r.body['balances'] as Json[] | undefined;
        return list !== undefined && list.some((x) => x['heldOrders'] !== '0') ? list : undefined;
      },
      120_000,
    );
    assert.ok(balances.length >= 2, JSON.stringify(balances));
    for (const row of balances) {
      const asOf = row['asOf'] as { shard: number; journalOffset: number; journalEntry: number };
      assert.ok(Number.isInteger(asOf.shard) && asOf.journalOffset >= 0 && asOf.journalEntry > 0, JSON.stringify(row));
      assert.ok(BigInt(String(row['onchain'])) > 0n, JSON.stringify(row));
    }
    const transfers = await get(url, '/v1/account/transfers', taker);
    assert.equal(transfers.status, 200);
    const list = transfers.body['transfers'] as Json[];
    assert.ok(list.length >= 2, JSON.stringify(list));
    for (const t of list) assert.deepEqual([t['kind'], t['refused']], ['DEPOSIT', null]);
  });

  it("gateway A (which placed the orders) also answers from the rows, and by client order id from its memory", async () => {
    const url = a!.url;
    const closed = await get(url, '/v1/orders/closed', taker);
    assert.equal((closed.body['asOf'] as { source: string }).source, 'read-model');
    assert.deepEqual((closed.body['orders'] as Json[]).map((o) => o['id']), [takerOrderId]);
    const byClient = await get(url, `/v1/orders/${M}/client/gwdb-ask`, maker);
    assert.equal(byClient.status, 200, JSON.stringify(byClient.body));
    assert.equal(byClient.body['id'], makerOrderId);
  });

  it('is not ready while the read-model tables are missing, and names them', async () => {
    const empty = await createTestDatabase({ migrate: false });
    let c: StandaloneGateway | undefined;
    try {
      // The embedded log (no KAFKA_BROKERS): only the database can make it unready.
      const env = gatewayEnv({ DATABASE_URL: empty.url });
      delete env['KAFKA_BROKERS'];
      c = await startStandalone(3, env);
      const r = await fetch(`${c.url}/ready`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'UNAVAILABLE');
      assert.match(body.error.message, /^not ready: database \(read-model tables missing: account_balances, account_ids, account_transfers, market_candles/);
    } finally {
      await c?.close();
      await empty.drop();
    }
  });
});
