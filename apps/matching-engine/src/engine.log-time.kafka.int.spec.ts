// Time on a real Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092): the orders topic stamps every record
// with the broker's append time (LogAppendTime), so a writer who may append to it (a raw kafkajs producer,
// not our transport) cannot hand the engine a far-future time, neither in the commands' ts nor in the
// record's own timestamp. The engine's books run on the log's time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import {
  decodeEventBatch,
  decodeEventBatchEvents,
  defaultMarkets,
  encodeCommandBatch,
  MarketCatalogue,
  marketKey,
  partitionForMarket,
  topicSpecs,
  type CommandBatch,
} from '@parallax/contracts';
import { PartitionEngine } from '@parallax/matching';
import { doneReasonName, OrderType, rejectReasonName, Side, StpMode, TimeInForce, type BookEvent, type PlaceOrder } from '@parallax/order-book';
import { createKafkaTransport, kafkaJsSecurity, TransportError, type ConsumedMessage, type KafkaTransport } from '@parallax/transport';
import { kafkaBrokers } from './testing/engine-process.js';

const { ConfigResourceTypes } = kafkajs;
const YEAR = 365 * 86_400_000;

function place(orderId: number, side: Side, o: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'place', ts: 0, orderId, accountId: side === Side.Buy ? 1 : 2, side, orderType: OrderType.Limit, price: side === Side.Buy ? 100 : 200,
    size: 1, tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None, ...o,
  };
}

describe('matching engine on Kafka: time comes from the log, not from whoever writes it', { timeout: 120_000 }, () => {
  let transport: KafkaTransport;
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'engine-log-time-raw', logLevel: logLevel.NOTHING, ...kafkaJsSecurity() });
  const admin = kafka.admin();
  const raw = kafka.producer();
  const run = `engine-it-logtime-${process.pid}-${Date.now()}`;
  const topics = { orders: `${run}.orders`, marketEvents: `${run}.events`, snapshots: `${run}.snapshots`, deadLetters: `${run}.dead` };
  const catalogue = new MarketCatalogue(defaultMarkets(1));
  const marketId = 1;
  const partitions = 1;

  before(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: 'engine-log-time' });
    await Promise.all([admin.connect(), raw.connect()]);
    await transport.ensureTopics(topicSpecs(topics, partitions));
  });
  after(async () => {
    await Promise.all([admin.disconnect(), raw.disconnect()]);
    await transport.close();
  });

  const batch = (...commands: PlaceOrder[]): CommandBatch => ({ marketId, sentAtMs: 0, commands });

  it('the orders topic is created with LogAppendTime', async () => {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.orders, configNames: ['message.timestamp.type'] }],
    });
    assert.equal(resources[0]!.configEntries.find((e) => e.configName === 'message.timestamp.type')?.configValue, 'LogAppendTime');
  });

  it('a raw producer\'s far-future record timestamp and command ts expire nothing: the engine runs at the broker\'s time', async () => {
    const partition = partitionForMarket(marketId, partitions);
    const sentFrom = Date.now();
    // An honest trader's GTT order, living one hour from now, through the ordinary transport.
    const honest = await transport.producer();
    try {
      await honest.send(topics.orders, [{ key: marketKey(marketId), partition, value: encodeCommandBatch(batch(place(16, Side.Buy, { tif: TimeInForce.GTT, expiresAt: sentFrom + 3_600_000 }))) }]);
    } finally {
      await honest.close();
    }
    // The attacker holds write access to the orders topic and sets both times ten years ahead.
    const far = sentFrom + 10 * YEAR;
    await raw.send({
      topic: topics.orders,
      messages: [{ key: marketKey(marketId), partition, timestamp: String(far), value: Buffer.from(encodeCommandBatch(batch(place(17, Side.Sell, { ts: far })))) }],
    });
    const messages: ConsumedMessage[] = [];
    for await (const chunk of transport.read(topics.orders, partition, 0)) messages.push(...chunk);
    assert.equal(messages.length, 2);
    for (const m of messages) {
      assert.ok(m.timestamp < far, `record ${m.offset} carries the broker's append time, not the writer's (${m.timestamp})`);
      // The broker's clock is this machine's clock (one host), give or take a second.
      assert.ok(m.timestamp >= sentFrom - 1_000, `record ${m.offset}: ${m.timestamp} is an append time`);
    }

    const engine = new PartitionEngine({ partition, partitions, catalogue });
    const result = engine.process(messages);
    assert.equal(result.deadLetters.length, 0);
    const events: BookEvent[] = result.outputs.flatMap((o) => decodeEventBatchEvents(decodeEventBatch(o.value)));
    assert.deepEqual(events.flatMap((e) => (e.type === 'rejected' ? [rejectReasonName(e.reason)] : [])), []);
    assert.deepEqual(events.flatMap((e) => (e.type === 'done' ? [doneReasonName(e.reason)] : [])), [], 'the GTT order did not expire');
    assert.ok(events.every((e) => e.ts < far), 'no event carries the written time');
    assert.equal(engine.market(marketId)!.orders, 2);
    assert.equal(events.at(-1)!.ts, messages[1]!.timestamp);
  });

  it('ensureTopics refuses an existing orders topic that keeps writer timestamps (CreateTime)', async () => {
    const name = `${run}.legacy-orders`;
    await transport.ensureTopics([{ name, partitions: 1 }]);
    await assert.rejects(
      transport.ensureTopics([{ name, partitions: 1, logAppendTime: true }]),
      (err: unknown) => err instanceof TransportError && err.code === 'INVALID_CONFIG' && err.message.includes('LogAppendTime'),
    );
  });
});
