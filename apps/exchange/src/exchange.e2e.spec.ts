import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_TOPICS,
  decodeEventBatch,
  decodeEventBatchEvents,
  encodeCommandBatch,
  marketKey,
  partitionForMarket,
} from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { OrderType, Side, StpMode, TimeInForce, type BookEvent, type PlaceOrder } from '@parallax/order-book';
import { loadExchangeConfig } from './exchange.config.js';
import { produceSignedFlow, signedOrderFlow, verifySettlement } from '@parallax/settlement/testing';
import { startExchange, type RunningExchange } from './exchange.js';

const PARTITIONS = 3;

function place(ts: number, orderId: number, accountId: number, side: Side, price: number, size: number): PlaceOrder {
  return { type: 'place', ts, orderId, accountId, side, orderType: OrderType.Limit, price, size, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None };
}

describe('npm start: the embedded single-machine exchange', () => {
  let exchange: RunningExchange;

  before(async () => {
    // The checks below read whole topics from offset 0: keep everything (retention has its own spec).
    const config = loadExchangeConfig({
      PARTITIONS: String(PARTITIONS),
      MARKETS: '4',
      EXCHANGE_ENGINES: '2',
      GATEWAY_PORT: '0',
      ENGINE_HTTP_PORT_BASE: '0',
      EXCHANGE_LOG_RETENTION: 'all',
    });
    exchange = await startExchange(config, createLogger('exchange-test', 'silent'));
  });
  after(async () => {
    await exchange.close();
  });

  it('runs the gateway, the engines and a local chain', async () => {
    assert.equal(exchange.mode, 'embedded');
    assert.equal(exchange.engineUrls.length, 2);
    const health = await fetch(`${exchange.gatewayUrl}/health`);
    assert.equal(health.status, 200);
    assert.ok(exchange.chain, 'local chain started');
    const rpc = await fetch(exchange.chain.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getCode', params: [exchange.chain.settlement, 'latest'] }),
    });
    const code = ((await rpc.json()) as { result: string }).result;
    assert.ok(code.length > 2, 'settlement contract deployed');
  });

  it('matches commands written to the orders topic in the engine workers', async () => {
    const log = exchange.log;
    assert.ok(log);
    const producer = await log.producer();
    const markets = [1, 2, 3, 4];
    await producer.send(
      DEFAULT_TOPICS.orders,
      markets.map((marketId) => ({
        key: marketKey(marketId),
        partition: partitionForMarket(marketId, PARTITIONS),
        value: encodeCommandBatch({
          marketId,
          sentAtMs: Date.now(),
          commands: [place(1, 1, 10, Side.Sell, 1000, 5), place(2, 2, 20, Side.Buy, 1000, 3)],
        }),
      })),
    );
    await producer.close();

    const trades = new Map<number, BookEvent[]>();
    const deadline = Date.now() + 20_000;
    while (trades.size < markets.length && Date.now() < deadline) {
      trades.clear();
      for (let p = 0; p < PARTITIONS; p++) {
        for await (const chunk of log.read(DEFAULT_TOPICS.marketEvents, p, 0)) {
          for (const m of chunk) {
            const batch = decodeEventBatch(m.value);
            trades.set(batch.marketId, decodeEventBatchEvents(batch).filter((e) => e.type === 'trade'));
          }
        }
      }
      if (trades.size < markets.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual([...trades.keys()].sort(), markets);
    for (const events of trades.values()) {
      assert.equal(events.length, 1);
      assert.deepEqual(
        events.map((e) => (e.type === 'trade' ? [e.makerOrderId, e.takerOrderId, e.price, e.size] : [])),
        [[1, 2, 1000, 3]],
      );
    }

    // The engines' own metrics saw the commands.
    let counted = 0;
    for (const url of exchange.engineUrls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const line of text.split('\n')) {
        if (line.startsWith('parallax_engine_commands_total')) counted += Number(line.split(' ').at(-1));
      }
    }
    assert.equal(counted, markets.length * 2);
  });

  it('settles signed orders on the local chain through the embedded log and PGlite (same checks as on Kafka)', async () => {
    const log = exchange.log;
    const local = exchange.localChain;
    const settlement = exchange.settlement;
    assert.ok(log && local && settlement, 'embedded log, local chain and settlement running');
    const unfunded = 2;
    // Order ids from 1,000: the test above used ids 1 and 2 in every market.
    const flow = await signedOrderFlow({
      seed: 11,
      domain: local.chain.domain,
      markets: local.markets,
      traders: 6,
      traderSeed: 'exchange-e2e',
      orders: 300,
      commandsPerMessage: 4,
      centerTicks: 150_000,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 3_600),
      maxFeeRate: 2_000,
      firstOrderId: 1_000,
    });
    for (const [accountId, account] of flow.traders) {
      await local.fundTraders([account.address], accountId === unfunded ? { BASE: 0n, ALT: 0n, QUOTE: 0n } : {});
    }
    const producer = await log.producer();
    await produceSignedFlow(producer, { orders: DEFAULT_TOPICS.orders, signedOrders: settlement.config.topics.signedOrders }, PARTITIONS, flow.messages);
    await producer.close();
    // The earlier test's trades (accounts 10 and 20, no signed orders) stay PENDING for want of signatures:
    // they count as unfunded here (failed once the wait for signed orders runs out, or never settled).
    const report = await verifySettlement({
      transport: log,
      config: settlement.config,
      repo: settlement.repo,
      local,
      flow,
      unfunded: new Set([unfunded]),
      timeoutMs: 120_000,
      engine: { groupId: 'parallax-matching-engine', ordersTopic: DEFAULT_TOPICS.orders },
    });
    assert.ok(report.settled > 0 && report.failed > 0);
  });
});
