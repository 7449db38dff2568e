// The engine's process entry refuses a bad environment at once: one line naming each bad variable, exit 78,
// before it opens a Kafka client (KAFKA_BROKERS=nonsense used to surface as a connection failure later).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));

function boot(env: Record<string, string>) {
  // A bound for a hang only: loading the code before the check took over 60 s of wall time at load 20 on 2 cores.
  return spawnSync(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 300_000 });
}

describe('matching-engine process entry', () => {
  it('KAFKA_BROKERS=nonsense and LOG_LEVEL=loud: exit 78, one stderr line naming both', () => {
    const started = Date.now();
    const r = boot({ KAFKA_BROKERS: 'nonsense', LOG_LEVEL: 'loud' });
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^matching-engine: invalid configuration: /);
    assert.match(r.stderr, /KAFKA_BROKERS: "nonsense" is not host:port/);
    assert.match(r.stderr, /LOG_LEVEL: must be one of/);
    // Refused before any connection attempt (kafkajs would retry for seconds): a generous bound, not a benchmark.
    assert.ok(Date.now() - started < 15_000);
  });

  it('numbers out of range and a missing catalogue file are named', () => {
    const r = boot({ PARTITIONS: '0', SNAPSHOT_EVERY_MS: 'soon', ENGINE_HTTP_PORT: '70000' });
    assert.equal(r.status, 78, r.stderr);
    for (const v of ['PARTITIONS', 'SNAPSHOT_EVERY_MS', 'ENGINE_HTTP_PORT']) assert.match(r.stderr, new RegExp(`${v}: `));
    const f = boot({ MARKET_CATALOGUE_FILE: '/nonexistent/markets.json' });
    assert.equal(f.status, 78, f.stderr);
    assert.match(f.stderr, /^matching-engine: invalid configuration: MARKET_CATALOGUE_FILE: .*ENOENT/);
  });
});
