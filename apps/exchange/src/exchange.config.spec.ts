import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TOPICS } from '@parallax/contracts';
import { ConfigError } from '@parallax/observability';
import { exchangeNames, loadExchangeConfig } from './exchange.config.js';

describe('exchange config: Kafka names', () => {
  it('refuses KAFKA_BROKERS without a namespace or the explicit deployment opt-in, naming the variable', () => {
    assert.throws(
      () => loadExchangeConfig({ KAFKA_BROKERS: '127.0.0.1:9092' }),
      (err: unknown) => err instanceof ConfigError && /EXCHANGE_NAMESPACE/.test(err.message) && /fence/.test(err.message),
    );
    assert.throws(
      () => loadExchangeConfig({ KAFKA_BROKERS: '127.0.0.1:9092', EXCHANGE_NAMESPACE: 'dev', EXCHANGE_USE_DEPLOYMENT_NAMES: 'true' }),
      (err: unknown) => err instanceof ConfigError && /EXCHANGE_USE_DEPLOYMENT_NAMES/.test(err.message),
    );
    for (const bad of ['', 'a.b', 'x'.repeat(65), 'dev/1']) {
      assert.throws(() => loadExchangeConfig({ KAFKA_BROKERS: '127.0.0.1:9092', EXCHANGE_NAMESPACE: bad }), ConfigError, JSON.stringify(bad));
    }
  });

  it('puts every topic, group and client id of a namespaced launch under its namespace', () => {
    const names = exchangeNames(loadExchangeConfig({ KAFKA_BROKERS: '127.0.0.1:9092', EXCHANGE_NAMESPACE: 'dev-alice' }));
    const { topics, settlementTopics } = names;
    const all: string[] = [
      topics.orders, topics.marketEvents, topics.snapshots, topics.deadLetters, settlementTopics.signedOrders, settlementTopics.settlementStatus,
      names.engineGroupId, names.settlementGroupId, names.engineClientId, names.settlementClientId,
    ];
    for (const n of all) assert.ok(n.startsWith('dev-alice.'), n);
    assert.equal(new Set(all).size, 8, 'topics distinct (group and client ids may coincide)');
    // The deployment itself (explicit opt-in) and the embedded mode keep the default names.
    const deployment = exchangeNames(loadExchangeConfig({ KAFKA_BROKERS: '127.0.0.1:9092', EXCHANGE_USE_DEPLOYMENT_NAMES: 'true' }));
    assert.deepEqual(deployment.topics, DEFAULT_TOPICS);
    assert.equal(deployment.engineGroupId, 'parallax-matching-engine');
    assert.deepEqual(exchangeNames(loadExchangeConfig({})).topics, DEFAULT_TOPICS);
  });
});
