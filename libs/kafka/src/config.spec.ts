import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_KAFKA_BROKERS, kafkaConfigFromEnv, parseBrokers } from './config.js';
import { KafkaPlumbingError } from './errors.js';
import { jsonLineLogSink } from './client.js';
import { ensureTopics } from './topics.js';
import { uniqueName } from './testing.js';
import type { Admin } from 'kafkajs';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof KafkaPlumbingError ? error.code : `not a KafkaPlumbingError: ${String(error)}`;
  }
  return undefined;
}

describe('kafkaConfigFromEnv', () => {
  it('defaults to the broker scripts/kafka.sh starts, client id parallax, log level warn', () => {
    assert.deepEqual(kafkaConfigFromEnv({}), { brokers: [DEFAULT_KAFKA_BROKERS], clientId: 'parallax', logLevel: 'warn' });
  });

  it('reads KAFKA_BROKERS, KAFKA_CLIENT_ID and KAFKA_LOG_LEVEL', () => {
    const config = kafkaConfigFromEnv({ KAFKA_BROKERS: ' a:1, b.example:9092 ,[::1]:9093', KAFKA_CLIENT_ID: 'risk-0', KAFKA_LOG_LEVEL: 'ERROR' });
    assert.deepEqual(config, { brokers: ['a:1', 'b.example:9092', '[::1]:9093'], clientId: 'risk-0', logLevel: 'error' });
    assert.equal(kafkaConfigFromEnv({}, { clientId: 'engine' }).clientId, 'engine');
  });

  it('rejects bad values with KAFKA_CONFIG_INVALID naming the variable', () => {
    for (const bad of ['', ',', 'localhost', 'host:', ':9092', 'host:0', 'host:65536', 'host:12x', 'a b:1']) {
      assert.equal(codeOf(() => parseBrokers(bad)), 'KAFKA_CONFIG_INVALID', bad);
    }
    assert.throws(() => kafkaConfigFromEnv({ KAFKA_BROKERS: 'nope' }), /KAFKA_BROKERS/);
    assert.throws(() => kafkaConfigFromEnv({ KAFKA_CLIENT_ID: 'has space' }), /KAFKA_CLIENT_ID/);
    assert.throws(() => kafkaConfigFromEnv({ KAFKA_LOG_LEVEL: 'loud' }), /KAFKA_LOG_LEVEL/);
  });
});

describe('uniqueName', () => {
  it('gives distinct legal Kafka names with the prefix', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('orders')));
    assert.equal(names.size, 200);
    for (const name of names) assert.match(name, /^orders-[a-z0-9]+-[0-9a-f]{8}$/);
    assert.throws(() => uniqueName('bad/prefix'), RangeError);
  });
});

describe('jsonLineLogSink', () => {
  it('writes one JSON object per line with level, namespace, message and kafkajs fields', () => {
    const lines: string[] = [];
    jsonLineLogSink((line) => lines.push(line))({ level: 'warn', time: 't', namespace: 'Consumer', message: 'hi', fields: { groupId: 'g' } });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    assert.deepEqual(JSON.parse(lines[0]!), { groupId: 'g', level: 'warn', time: 't', logger: 'kafkajs', namespace: 'Consumer', msg: 'hi' });
  });
});

describe('ensureTopics spec validation (before any broker call)', () => {
  const admin = new Proxy({} as Admin, {
    get: () => () => Promise.reject(new Error('must not reach the broker')),
  });
  const cases = [
    [{ name: 'bad name', partitions: 1 }],
    [{ name: '..', partitions: 1 }],
    [{ name: 'x'.repeat(250), partitions: 1 }],
    [{ name: 'ok', partitions: 0 }],
    [{ name: 'ok', partitions: 1.5 }],
    [{ name: 'ok', partitions: 1, replicationFactor: 0 }],
    [
      { name: 'twice', partitions: 1 },
      { name: 'twice', partitions: 1 },
    ],
  ];
  for (const specs of cases) {
    it(`rejects ${JSON.stringify(specs).slice(0, 80)}`, async () => {
      await assert.rejects(ensureTopics(admin, specs), (error: unknown) => error instanceof KafkaPlumbingError && error.code === 'TOPIC_SPEC_INVALID');
    });
  }
});
