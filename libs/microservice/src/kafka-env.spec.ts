import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { kafkaEnvShape, kafkaSettingsFrom } from './kafka-env.js';

const schema = z.object(kafkaEnvShape('svc'));

describe('kafka environment', () => {
  it('defaults to the embedded log, the service client id and the transport timing', () => {
    assert.deepEqual(kafkaSettingsFrom(schema.parse({})), { kafkaBrokers: undefined, kafkaClientId: 'svc', kafkaConsumer: {} });
    assert.equal(kafkaSettingsFrom(schema.parse({ KAFKA_BROKERS: '' })).kafkaBrokers, undefined);
  });

  it('maps brokers, client id and every group timing variable', () => {
    const s = kafkaSettingsFrom(
      schema.parse({
        KAFKA_BROKERS: 'a:1, b:2',
        KAFKA_CLIENT_ID: 'me',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        KAFKA_HEARTBEAT_INTERVAL_MS: '500',
        KAFKA_REBALANCE_TIMEOUT_MS: '10000',
        KAFKA_MAX_WAIT_MS: '0',
      }),
    );
    assert.deepEqual(s, {
      kafkaBrokers: ['a:1', 'b:2'],
      kafkaClientId: 'me',
      kafkaConsumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10000, maxWaitTimeMs: 0 },
    });
  });

  it('rejects what the transport could not use', () => {
    for (const bad of [{ KAFKA_BROKERS: 'nohost' }, { KAFKA_SESSION_TIMEOUT_MS: '0' }, { KAFKA_MAX_WAIT_MS: '-1' }, { KAFKA_HEARTBEAT_INTERVAL_MS: '1.5' }, { KAFKA_CLIENT_ID: '' }]) {
      assert.equal(schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
