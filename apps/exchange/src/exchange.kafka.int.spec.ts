// `npm start` pointed at a shared Kafka (KAFKA_BROKERS, default 127.0.0.1:19092; `bash scripts/kafka.sh start`)
// while a deployment's engine runs there under the default names. The launch must stay out of the
// deployment: its engines in their own consumer group (so no rebalance takes partitions from the deployment's
// engine) with their own transactional ids (so the deployment's producers are not fenced), on their own topics.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DEFAULT_TOPICS, encodeCommandBatch, marketKey, partitionForMarket, topicSpecs } from '@parallax/contracts';
import { spawnEngineProcess, type EngineProcess } from '@parallax/matching-engine';
import { createLogger } from '@parallax/observability';
import { OrderType, Side, StpMode, TimeInForce, type PlaceOrder } from '@parallax/order-book';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const PARTITIONS = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function place(ts: number, orderId: number, side: Side): PlaceOrder {
  return { type: 'place', ts, orderId, accountId: 10 + side, side, orderType: OrderType.Limit, price: 1000, size: 1, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None };
}

async function sendOrders(transport: Transport, topic: string, round: number): Promise<void> {
  const producer = await transport.producer();
  try {
    await producer.send(
      topic,
      [1, 2].map((marketId) => ({
        key: marketKey(marketId),
        partition: partitionForMarket(marketId, PARTITIONS),
        value: encodeCommandBatch({ marketId, sentAtMs: Date.now(), commands: [place(round * 10 + 1, round * 10 + 1, Side.Sell), place(round * 10 + 2, round * 10 + 2, Side.Buy)] }),
      })),
    );
  } finally {
    await producer.close();
  }
}

/** Waits until `groupId` has committed every partition of `topic` up to its end. */
async function caughtUp(transport: Transport, groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ends = await transport.endOffsets(topic);
    const committed = await transport.committedOffsets(groupId, topic);
    if ([...ends].every(([p, end]) => end > 0 && (committed.get(p) ?? 0) >= end)) return;
    if (Date.now() > deadline) throw new Error(`${groupId} did not catch up on ${topic}: ends ${JSON.stringify([...ends])} committed ${JSON.stringify([...committed])}`);
    await sleep(100);
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  // Default labels (service, instance) may follow the name.
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  assert.ok(line, `${name} in ${url}/metrics`);
  return Number(line.split(' ').at(-1));
}

describe('npm start on a shared Kafka cluster', { timeout: 240_000 }, () => {
  const transport = createKafkaTransport({ brokers: brokers.split(','), clientId: 'exchange-shared-kafka-test' });
  let deployment: EngineProcess | undefined;
  let exchange: RunningExchange | undefined;
  after(async () => {
    await exchange?.close();
    if (deployment !== undefined && deployment.child.exitCode === null) {
      deployment.child.kill('SIGKILL');
      await deployment.exited;
    }
    await transport.close();
  });

  it('runs its engines under its own namespace and leaves the deployment engine its partitions and producers', async () => {
    // The "deployment": one engine under the default group and topic names (the test's broker is private).
    const base = { KAFKA_BROKERS: brokers, PARTITIONS: String(PARTITIONS), MARKETS: '2', ENGINE_HTTP_PORT: '0', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '500', KAFKA_MAX_WAIT_MS: '100', LOG_LEVEL: 'info' };
    deployment = await spawnEngineProcess('deployment', base);
    await sendOrders(transport, DEFAULT_TOPICS.orders, 1);
    await caughtUp(transport, 'parallax-matching-engine', DEFAULT_TOPICS.orders);
    assert.equal(await metric(deployment.url, 'parallax_engine_partitions_owned'), PARTITIONS);
    const rebalances = await metric(deployment.url, 'parallax_engine_rebalances_total');

    // Without a namespace the launcher refuses to start at all.
    assert.throws(() => loadExchangeConfig({ KAFKA_BROKERS: brokers }), /EXCHANGE_NAMESPACE/);

    const namespace = `it-${Date.now()}`;
    const config = loadExchangeConfig({
      KAFKA_BROKERS: brokers,
      EXCHANGE_NAMESPACE: namespace,
      EXCHANGE_ENGINES: '1',
      PARTITIONS: String(PARTITIONS),
      MARKETS: '2',
      EXCHANGE_LOCAL_CHAIN: 'false',
      GATEWAY_PORT: '0',
      ENGINE_HTTP_PORT_BASE: '0',
    });
    exchange = await startExchange(config, createLogger('exchange-test', 'silent'));
    const names = exchange.names;
    assert.equal(names.topics.orders, `${namespace}.${DEFAULT_TOPICS.orders}`);
    // The launch's engine also creates them at boot; creating them here first avoids racing it.
    await transport.ensureTopics(topicSpecs(names.topics, PARTITIONS));
    await sendOrders(transport, names.topics.orders, 1);
    await caughtUp(transport, names.engineGroupId, names.topics.orders);

    // The deployment engine was neither rebalanced nor fenced: it still owns every partition and commits.
    await sendOrders(transport, DEFAULT_TOPICS.orders, 2);
    await caughtUp(transport, 'parallax-matching-engine', DEFAULT_TOPICS.orders);
    assert.equal(await metric(deployment.url, 'parallax_engine_partitions_owned'), PARTITIONS);
    assert.equal(await metric(deployment.url, 'parallax_engine_rebalances_total'), rebalances, 'no rebalance of the deployment group');
    assert.equal(deployment.child.exitCode, null, 'the deployment engine is still running');
    assert.equal((await transport.committedOffsets('parallax-matching-engine', names.topics.orders)).size, 0);
    assert.equal((await transport.committedOffsets(names.engineGroupId, DEFAULT_TOPICS.orders)).size, 0);
  });
});
