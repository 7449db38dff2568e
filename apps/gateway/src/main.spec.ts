// The gateway's process entry as an operator meets it: a bad variable stops start-up with one line naming it,
// and a good configuration starts with Nest's own logs in the same pino stream (JSON when piped).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
// Only what a fresh shell has: nothing from the test runner's environment leaks into the check.
const baseEnv = { PATH: process.env['PATH'] ?? '' };
// The settlement deployment orders are signed for (no chain is contacted); no KAFKA_BROKERS: a private embedded log.
const deployment = {
  CHAIN_ID: '31337',
  SETTLEMENT_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  SETTLEMENT_MARKETS: JSON.stringify([{ marketId: 1, baseToken: '0x1000000000000000000000000000000000000001', quoteToken: '0x2000000000000000000000000000000000000002', lotSize: '1000000000000000', tickSize: '10000' }]),
};

/**
 * Every run loads the whole gateway first (ESM imports come before the configuration check): about 3 CPU-seconds,
 * which took over 60 s of wall time on this 2-core machine at load 20. The waits below are for an exit or a
 * log line; the bound only stops a process that hangs.
 */
const BOUND_MS = 300_000;

function boot(env: Record<string, string>) {
  const r = spawnSync(process.execPath, [main], { env: { ...baseEnv, ...env }, encoding: 'utf8', timeout: BOUND_MS });
  assert.equal(r.error, undefined, `the gateway did not exit within ${BOUND_MS} ms: ${String(r.error)}\n${r.stderr}`);
  return r;
}

/** Starts the gateway, returns its stdout lines up to and including the one containing `until`, then stops it. */
async function linesUntil(env: Record<string, string>, until: string): Promise<string[]> {
  const child = spawn(process.execPath, [main], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the gateway did not log "${until}" within ${BOUND_MS} ms; its lines so far:\n${lines.join('\n')}`));
      }, BOUND_MS);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${String(code)}:\n${lines.join('\n')}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line.includes(until)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
  return lines;
}

describe('gateway process entry', () => {
  it('LOG_LEVEL=loud: exit 78 and one line on stderr naming LOG_LEVEL, no stack trace', () => {
    const r = boot({ LOG_LEVEL: 'loud', GATEWAY_PORT: '0' });
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^gateway: invalid configuration: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent\n$/);
  });

  it('several bad variables: every one named on the same line', () => {
    const r = boot({ GATEWAY_PORT: 'http', LOG_FORMAT: 'xml' });
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /GATEWAY_PORT: /);
    assert.match(r.stderr, /LOG_FORMAT: must be one of auto, json, pretty/);
  });

  it('a settlement market list that is not one names SETTLEMENT_MARKETS', () => {
    const r = boot({ ...deployment, SETTLEMENT_MARKETS: '[{"marketId":1}]' });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /^gateway: invalid configuration: SETTLEMENT_MARKETS: /);
  });

  it('a DATABASE_URL that is not a PostgreSQL URL: exit 78 naming DATABASE_URL, and nothing about its value', () => {
    const r = boot({ ...deployment, GATEWAY_PORT: '0', DATABASE_URL: 'mysql://reader:s3cret@db/parallax' });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /^gateway: invalid configuration: DATABASE_URL: must be a postgresql:\/\/ URL\n$/);
    assert.doesNotMatch(r.stderr, /s3cret/);
  });

  it('without DATABASE_URL it starts on memory only, and says so', async () => {
    const lines = await linesUntil({ ...deployment, GATEWAY_PORT: '0' }, 'gateway listening');
    assert.match(lines.at(-1)!, /"readModels":"memory only"/);
  });

  it('takes the settlement market list in either form settlement takes ({ "markets": [...] } too)', async () => {
    const wrapped = JSON.stringify({ markets: JSON.parse(deployment.SETTLEMENT_MARKETS) as unknown });
    const lines = await linesUntil({ ...deployment, SETTLEMENT_MARKETS: wrapped, GATEWAY_PORT: '0' }, 'gateway listening');
    assert.ok(lines.some((l) => l.includes('gateway listening')));
  });

  it("starts with a good configuration; piped, every line is JSON and Nest's own start-up logs are among them", async () => {
    const lines = await linesUntil({ ...deployment, GATEWAY_PORT: '0' }, 'gateway listening');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(entries.every((e) => e['service'] === 'gateway'));
    assert.ok(
      entries.some((e) => e['component'] === 'nest' && e['context'] === 'NestApplication' && e['level'] === 30),
      `no Nest line in:\n${lines.join('\n')}`,
    );
  });

  it('LOG_FORMAT=pretty writes readable lines instead of JSON', async () => {
    const lines = await linesUntil({ ...deployment, GATEWAY_PORT: '0', LOG_FORMAT: 'pretty' }, 'gateway listening');
    const line = lines.find((l) => l.includes('gateway listening'))!;
    assert.throws(() => JSON.parse(line) as unknown);
    assert.match(line, /INFO.*gateway listening/);
    assert.ok(lines.some((l) => /INFO.*Nest application successfully started/.test(l)), lines.join('\n'));
  });
});
