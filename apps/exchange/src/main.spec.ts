// `npm start`'s entry refuses a bad environment at once: one line naming the variable, exit 78. It used to
// accept KAFKA_BROKERS=nonsense and fail 15 s later, when its engines could not connect.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));

function boot(env: Record<string, string>) {
  // A bound for a hang only: loading the code before the check took over 60 s of wall time at load 20 on 2 cores.
  return spawnSync(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 300_000 });
}

describe('exchange process entry', () => {
  it('KAFKA_BROKERS=nonsense: exit 78, one stderr line naming it, nothing started', () => {
    // With a namespace, so that the broker list is the only bad value.
    const r = boot({ KAFKA_BROKERS: 'nonsense', EXCHANGE_NAMESPACE: 'dev' });
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^exchange: invalid configuration: KAFKA_BROKERS: "nonsense" is not host:port \(port 1-65535\); a list is comma-separated\n$/);
  });

  it('LOG_LEVEL=loud and a bad flag: both named on one line', () => {
    const r = boot({ LOG_LEVEL: 'loud', EXCHANGE_LOCAL_CHAIN: 'yes', EXCHANGE_ENGINES: '0' });
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    for (const v of ['LOG_LEVEL', 'EXCHANGE_LOCAL_CHAIN', 'EXCHANGE_ENGINES']) assert.match(r.stderr, new RegExp(`${v}: `));
  });
});
