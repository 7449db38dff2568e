// The settlement service's process entry refuses a bad or incomplete environment at once: one line naming each
// variable, exit 78, before it opens a database, a chain client or a Kafka client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));

function boot(env: Record<string, string>) {
  // A bound for a hang only: loading the code before the check took over 60 s of wall time at load 20 on 2 cores.
  return spawnSync(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 300_000 });
}

describe('settlement process entry', () => {
  it('nothing set: exit 78, one line naming the required variables', () => {
    const r = boot({});
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^settlement: invalid configuration: /);
    for (const v of ['RPC_URL', 'SETTLEMENT_ADDRESS', 'OPERATOR_PRIVATE_KEY']) assert.match(r.stderr, new RegExp(`${v}: `));
  });

  it('hostile values are refused by name, and the private key is never echoed', () => {
    const key = `0x${'z1'.repeat(32)}`;
    const r = boot({
      KAFKA_BROKERS: 'broker:99999',
      LOG_LEVEL: 'loud',
      RPC_URL: 'file:///etc/passwd',
      SETTLEMENT_ADDRESS: '0x1234',
      OPERATOR_PRIVATE_KEY: key,
      SETTLEMENT_MARKETS: '[]',
    });
    assert.equal(r.status, 78, r.stderr);
    for (const v of ['KAFKA_BROKERS', 'LOG_LEVEL', 'RPC_URL', 'SETTLEMENT_ADDRESS', 'OPERATOR_PRIVATE_KEY']) assert.match(r.stderr, new RegExp(`${v}: `));
    assert.ok(!r.stderr.includes(key.slice(2)), 'the key value stays out of the logs');
  });
});
