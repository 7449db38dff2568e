// RiskShards' per-shard ordering under concurrent delivery (Kafka hands out batches of different partitions
// at once; the embedded log does not, so the consumer is driven by hand here, over a real embedded log):
// a batch whose commit failed leaves the shard ahead of its log, and a batch of another input of the same
// shard waiting behind it must not commit (its journal entry would follow one that never existed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeChainEventBatch, encodeRiskRequestBatch } from '@parallax/contracts';
import { shardForAccount } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import { createEmbeddedTransport, type ConsumedBatch, type ConsumerHandlers, type GroupConsumer, type Producer, type Transport } from '@parallax/transport';
import { RiskShards, type RiskShardsConfig } from './risk-shards.js';

const MARKET = testMarket(1, { maker: 0, taker: 100 });

describe('RiskShards under concurrent delivery', () => {
  it('refuses to commit a shard batch queued behind one whose commit failed', async () => {
    const log = createEmbeddedTransport();
    let handlers: ConsumerHandlers | undefined;
    let failNext = true;
    const consumer: GroupConsumer = {
      run: (h) => {
        handlers = h;
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
      stopped: Promise.resolve(),
    };
    // The real log, except: the consumer is driven by the test, and the first transaction fails.
    const transport: Transport = Object.assign(Object.create(log) as Transport, {
      consumer: () => Promise.resolve(consumer),
      producer: async (options?: { transactionalId?: string }): Promise<Producer> => {
        const p = await log.producer(options);
        return {
          send: (topic, messages) => p.send(topic, messages),
          close: () => p.close(),
          transaction: (fill) => {
            if (failNext) {
              failNext = false;
              return Promise.reject(new Error('broker timeout'));
            }
            return p.transaction(fill);
          },
        };
      },
    });
    const config: RiskShardsConfig = {
      groupId: 'g',
      inputs: { requests: 'requests', chainEvents: 'chain-events', accountEvents: 'account-events' },
      state: { journal: 'journal', snapshots: 'snapshots' },
      ordersTopic: 'orders',
      signedOrdersTopic: 'signed-orders',
      deadLettersTopic: 'dead-letters',
      shards: 1,
      marketPartitions: 1,
      markets: [MARKET],
    };
    const shards = new RiskShards(config, transport);
    await shards.start();
    await handlers!.onAssigned!(['requests', 'chain-events', 'account-events'].map((topic) => ({ topic, partition: 0 })));
    const a = accountAddress(1);
    assert.equal(shardForAccount(a, 1), 0);
    const batch = (topic: string, value: Uint8Array): ConsumedBatch => ({ topic, partition: 0, highWatermark: 1, messages: [{ topic, partition: 0, offset: 0, key: a, value, timestamp: 0, headers: {} }] });
    const deposit = batch('chain-events', encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: a, token: QUOTE, amount: 10n ** 12n }] }));
    const order = batch('requests', encodeRiskRequestBatch({ sentAtMs: 0, requests: [placeRequest(a, MARKET, { isBuy: true, priceTicks: 100, lots: 1, nonce: 1n })] }));
    const [first, second] = await Promise.allSettled([handlers!.eachBatch(deposit), handlers!.eachBatch(order)]);
    assert.equal(first.status, 'rejected');
    assert.match(String((first).reason), /broker timeout/);
    assert.equal(second.status, 'rejected', 'the queued batch of the same shard did not commit');
    assert.match(String((second).reason), /ahead of its log/);
    const journal = [];
    for await (const chunk of log.read('journal', 0, 0)) journal.push(...chunk);
    assert.equal(journal.length, 0, 'no journal entry after the failed one');
    const orders = [];
    for await (const chunk of log.read('orders', 0, 0)) orders.push(...chunk);
    assert.equal(orders.length, 0, 'no order forwarded on funds whose deposit was never committed');
    await shards.close();
    await log.close();
  });
});
