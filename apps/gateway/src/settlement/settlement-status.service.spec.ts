import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MarketCatalogue, SETTLEMENT_STATUS_KEY, defaultMarkets, encodeSettlementStatus } from '@parallax/contracts';
import { settlementDomain } from '@parallax/chain';
import { createEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';
import { loadGatewayConfig } from '../gateway.config.js';
import { until } from '../testing/until.js';
import type { BatchView } from './settlement-batches.js';
import { SettlementStatusService } from './settlement-status.service.js';

const TOPIC = 'test.settlement-status';
const TX = `0x${'cd'.repeat(32)}` as const;

describe('SettlementStatusService on the settlement-status topic', () => {
  let log: EmbeddedTransport;
  let service: SettlementStatusService;
  const changes: BatchView[] = [];

  before(async () => {
    log = createEmbeddedTransport();
    await log.ensureTopics([{ name: TOPIC, partitions: 1 }]);
    service = new SettlementStatusService({
      config: loadGatewayConfig({}),
      transport: log,
      topics: { requests: 'r', riskResults: 'rr', chainEvents: 'c', marketEvents: 'e', signedOrders: 's', settlementStatus: TOPIC },
      accountShards: 1,
      catalogue: new MarketCatalogue(defaultMarkets(1)),
      domain: settlementDomain(31337, '0x0000000000000000000000000000000000000001'),
      settlementMarkets: [],
      fees: { makerFeeRate: 0, takerFeeRate: 0 },
    });
    service.onChange((b) => changes.push(b));
  });
  after(async () => {
    await service.onApplicationShutdown();
    await log.close();
  });

  it('skips malformed messages and keeps applying the ones after them', async () => {
    const producer = await log.producer();
    const valid = encodeSettlementStatus({ batchId: 5n, status: 'submitted', atMs: 10, fillCount: 4, txHash: TX, failedFills: [] });
    const truncated = valid.slice(0, valid.length - 3);
    const mined = encodeSettlementStatus({ batchId: 5n, status: 'mined', atMs: 20, fillCount: 4, blockNumber: 9n, gasUsed: 400n, gasPerFill: 100n, failedFills: [] });
    await producer.send(TOPIC, [
      { key: SETTLEMENT_STATUS_KEY, value: new Uint8Array([1, 2, 3]), partition: 0 },
      { key: SETTLEMENT_STATUS_KEY, value: valid, partition: 0 },
      { key: SETTLEMENT_STATUS_KEY, value: truncated, partition: 0 },
      { key: SETTLEMENT_STATUS_KEY, value: mined, partition: 0 },
    ]);
    await producer.close();
    await service.start();
    const batch = await until('the mined batch', () => service.recent(10).find((b) => b.status === 'mined'), 5_000, 25);
    assert.deepEqual(batch, { batchId: '5', status: 'mined', fillCount: 4, txHash: TX, blockNumber: '9', gasUsed: '400', gasPerFill: '100', failedFills: 0, createdAt: 10, updatedAt: 20 });
    assert.equal(service.skippedMessages, 2);
    assert.deepEqual(changes.map((c) => c.status), ['submitted', 'mined']);
  });
});
