import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DEFAULT_RISK_TOPICS } from '@parallax/contracts';
import { ConfigError } from '@parallax/observability';
import { loadChainWatcherConfig } from './chain-watcher.config.js';

const base = { RPC_URL: 'http://127.0.0.1:8545', SETTLEMENT_ADDRESS: `0x${'ab'.repeat(20)}`, SETTLEMENT_DEPLOY_BLOCK: '7' };

describe('chain watcher config', () => {
  it('has defaults that match the risk shards (chain-events topic, 4 shards) and a 12-block depth', () => {
    const c = loadChainWatcherConfig(base);
    assert.equal(c.topics.chainEvents, DEFAULT_RISK_TOPICS.chainEvents);
    assert.equal(c.shards, 4);
    assert.equal(c.confirmations, 12);
    assert.equal(c.startBlock, 7n);
    assert.equal(c.settlement.toLowerCase(), base.SETTLEMENT_ADDRESS);
  });

  it('names every bad variable', () => {
    const bad = { ...base, RPC_URL: 'ws://x', SETTLEMENT_ADDRESS: '0x12', SETTLEMENT_DEPLOY_BLOCK: '0', CHAIN_CONFIRMATIONS: '0', ACCOUNT_SHARDS: '10001', TOPIC_CHAIN_EVENTS: 'a b', CHAIN_WATCHER_RECONCILE: 'yes' };
    try {
      loadChainWatcherConfig(bad);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      for (const v of ['RPC_URL', 'SETTLEMENT_ADDRESS', 'SETTLEMENT_DEPLOY_BLOCK', 'CHAIN_CONFIRMATIONS', 'ACCOUNT_SHARDS', 'TOPIC_CHAIN_EVENTS', 'CHAIN_WATCHER_RECONCILE']) assert.match(e.message, new RegExp(`${v}: `));
    }
    assert.throws(() => loadChainWatcherConfig({}), /SETTLEMENT_DEPLOY_BLOCK: required/);
  });

  it('the process refuses a bad value with one line and exit 78, before opening anything', () => {
    const main = fileURLToPath(new URL('../main.js', import.meta.url));
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', ...base, CHAIN_CONFIRMATIONS: 'many' }, encoding: 'utf8' });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /^chain-watcher: invalid configuration: CHAIN_CONFIRMATIONS: .*\n$/);
  });
});
