import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_TOPICS, defaultMarkets, MarketCatalogue } from '@parallax/contracts';
import { loadMatchingEngineConfig } from './matching-engine.config.js';

describe('matching engine config', () => {
  it('has working defaults: embedded log, the contract topics, the default catalogue', () => {
    const c = loadMatchingEngineConfig({});
    assert.equal(c.kafkaBrokers, undefined);
    assert.deepEqual(c.topics, DEFAULT_TOPICS);
    assert.equal(c.catalogue.all().length, 12);
    assert.deepEqual(c.kafkaConsumer, {});
  });

  it('gives the orders topic a retention far beyond the snapshot interval, and refuses one that is not', () => {
    assert.equal(loadMatchingEngineConfig({}).ordersRetentionMs, 7 * 24 * 3_600_000);
    assert.equal(loadMatchingEngineConfig({ ORDERS_RETENTION_MS: '600000', SNAPSHOT_EVERY_MS: '60000' }).ordersRetentionMs, 600_000);
    assert.throws(() => loadMatchingEngineConfig({ ORDERS_RETENTION_MS: '599999', SNAPSHOT_EVERY_MS: '60000' }), /ORDERS_RETENTION_MS/);
  });

  it('parses brokers, counts and Kafka timings', () => {
    const c = loadMatchingEngineConfig({
      KAFKA_BROKERS: '127.0.0.1:19092, 10.0.0.2:9092',
      PARTITIONS: '12',
      MARKETS: '30',
      SNAPSHOT_EVERY_MESSAGES: '100',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ENSURE_TOPICS: 'false',
    });
    assert.deepEqual(c.kafkaBrokers, ['127.0.0.1:19092', '10.0.0.2:9092']);
    assert.equal(c.partitions, 12);
    assert.equal(c.catalogue.all().length, 30);
    assert.equal(c.snapshotEveryMessages, 100);
    assert.deepEqual(c.kafkaConsumer, { sessionTimeoutMs: 6000 });
    assert.equal(c.ensureTopics, false);
  });

  it('refuses bad values at boot, naming the variable', () => {
    assert.throws(() => loadMatchingEngineConfig({ PARTITIONS: '0' }), /PARTITIONS/);
    assert.throws(() => loadMatchingEngineConfig({ KAFKA_BROKERS: 'no-port' }), /KAFKA_BROKERS/);
    assert.throws(() => loadMatchingEngineConfig({ SNAPSHOT_EVERY_MS: 'soon' }), /SNAPSHOT_EVERY_MS/);
    assert.throws(() => loadMatchingEngineConfig({ TOPIC_ORDERS: 'bad topic' }), /TOPIC_ORDERS/);
    assert.throws(() => loadMatchingEngineConfig({ MARKET_CATALOGUE_FILE: '/nonexistent/catalogue.json' }), /MARKET_CATALOGUE_FILE/);
  });

  it('loads a catalogue file, and names the variable when the file is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-config-'));
    const file = join(dir, 'markets.json');
    writeFileSync(file, JSON.stringify(new MarketCatalogue(defaultMarkets(3)).toJSON()));
    const c = loadMatchingEngineConfig({ MARKET_CATALOGUE_FILE: file, MARKETS: '50' });
    assert.deepEqual(c.catalogue.all().map((m) => m.symbol), ['M1-USDC', 'M2-USDC', 'M3-USDC']);
    writeFileSync(file, 'not json');
    assert.throws(() => loadMatchingEngineConfig({ MARKET_CATALOGUE_FILE: file }), /MARKET_CATALOGUE_FILE/);
  });
});
