import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TOPICS } from '@parallax/contracts';
import { parseCli, UsageError } from './cli.js';

const env = { KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093' };
const usage = (argv: string[], e: Record<string, string | undefined> = env, fragment = ''): void => {
  assert.throws(() => parseCli(argv, e), (x: unknown) => x instanceof UsageError && x.message.includes(fragment), argv.join(' '));
};

describe('load generator CLI', () => {
  it('parses the documented flags', () => {
    const c = parseCli(['--markets', '8', '--partitions', '4', '--rate', '50000', '--duration', '2.5', '--batch', '200', '--seed', '7', '--accounts', '300'], env);
    assert.deepEqual(c, {
      brokers: ['127.0.0.1:9092', '127.0.0.1:9093'],
      clientId: 'parallax-load-generator',
      options: { markets: 8, seed: 7, batchSize: 200, rate: 50_000, durationSec: 2.5, partitions: 4, createTopics: true, workload: { accounts: 300 } },
    });
    const d = parseCli(['--markets', '2', '--count', '1000', '--topic', 'x.orders'], { ...env, KAFKA_CLIENT_ID: 'lg-1' });
    assert.ok(d !== null);
    assert.deepEqual(d.options, { markets: 2, seed: 1, batchSize: 100, rate: 0, totalCommands: 1000, topics: { ...DEFAULT_TOPICS, orders: 'x.orders' } });
    assert.equal(d.clientId, 'lg-1');
    assert.equal(parseCli(['--help'], {}), null);
  });

  it('names what is wrong', () => {
    usage(['--count', '10'], env, '--markets is required');
    usage(['--markets', '2'], env, '--duration or --count');
    usage(['--markets', '0', '--count', '1'], env, '--markets');
    usage(['--markets', 'x', '--count', '1'], env, '--markets');
    usage(['--markets', '2', '--count', '-1'], env, '--count');
    usage(['--markets', '2', '--duration', '0'], env, '--duration');
    usage(['--markets', '2', '--duration', '1s'], env, '--duration');
    usage(['--markets', '2', '--count', '1', '--batch', '70000'], env, '--batch');
    usage(['--markets', '2', '--count', '1', '--rate', '1.5'], env, '--rate');
    usage(['--markets', '2', '--count', '1', '--bogus', '1'], env, 'bogus');
    usage(['--markets', '2', '--count', '1'], {}, 'KAFKA_BROKERS');
    usage(['--markets', '2', '--count', '1'], { KAFKA_BROKERS: 'localhost' }, 'host:port');
  });
});
