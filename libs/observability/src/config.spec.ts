import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig, logEnvShape, optionalBrokerList } from './config.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  KAFKA_BROKERS: z.string().min(1).optional(),
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    assert.deepEqual(loadConfig(schema, {}), { PORT: 3000 });
    assert.deepEqual(loadConfig(schema, { PORT: '8080', KAFKA_BROKERS: 'a:1' }), { PORT: 8080, KAFKA_BROKERS: 'a:1' });
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadConfig(schema, { PORT: '70000' }),
      (err: unknown) => err instanceof ConfigError && err.message.includes('PORT') && err.problems.length === 1,
    );
  });

  it('reports every bad variable on one line', () => {
    const both = z.object({ ...logEnvShape(), PORT: z.coerce.number().int().min(1) });
    assert.throws(
      () => loadConfig(both, { LOG_LEVEL: 'loud', PORT: 'x' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        !err.message.includes('\n') &&
        /^invalid configuration: .*LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/.test(err.message) &&
        /PORT: /.test(err.message) &&
        err.problems.length === 2,
    );
  });
});

describe('logEnvShape', () => {
  const s = z.object(logEnvShape());
  it('defaults to info, auto and accepts every pino level', () => {
    assert.deepEqual(loadConfig(s, {}), { LOG_LEVEL: 'info', LOG_FORMAT: 'auto' });
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) assert.equal(loadConfig(s, { LOG_LEVEL: level }).LOG_LEVEL, level);
  });
  it('refuses an unknown level or format, naming the variable', () => {
    assert.throws(() => loadConfig(s, { LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
    assert.throws(() => loadConfig(s, { LOG_LEVEL: 'INFO' }), /LOG_LEVEL/);
    assert.throws(() => loadConfig(s, { LOG_FORMAT: 'xml' }), /LOG_FORMAT: must be one of auto, json, pretty/);
  });
});

describe('optionalBrokerList', () => {
  const s = z.object({ KAFKA_BROKERS: optionalBrokerList() });
  it('unset or empty selects the embedded log; a list is split and trimmed', () => {
    assert.equal(loadConfig(s, {}).KAFKA_BROKERS, undefined);
    assert.equal(loadConfig(s, { KAFKA_BROKERS: ' ' }).KAFKA_BROKERS, undefined);
    assert.deepEqual(loadConfig(s, { KAFKA_BROKERS: 'kafka-0.kafka:9092, 10.0.0.7:19092' }), { KAFKA_BROKERS: ['kafka-0.kafka:9092', '10.0.0.7:19092'] });
    assert.deepEqual(loadConfig(s, { KAFKA_BROKERS: '[::1]:9092' }), { KAFKA_BROKERS: ['[::1]:9092'] });
  });
  it('refuses what is not host:port, naming KAFKA_BROKERS', () => {
    for (const bad of ['nonsense', 'host:', ':9092', 'host:0', 'host:65536', 'host:12x', 'a:1,,b:2', 'a b:1', 'kafka://h:9092']) {
      assert.throws(() => loadConfig(s, { KAFKA_BROKERS: bad }), /invalid configuration: KAFKA_BROKERS: .* is not host:port/, bad);
    }
  });
});
