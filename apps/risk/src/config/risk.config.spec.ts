// The risk service's configuration: defaults agree with the matching engine's account-event output, and a
// bad value names its variable.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS } from '@parallax/contracts';
import { loadMatchingEngineConfig } from '@parallax/matching-engine';
import { ConfigError } from '@parallax/observability';
import { testMarket } from '@parallax/risk/testing';
import { loadRiskConfig } from './risk.config.js';

function marketsFile(content?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'risk-config-')), 'markets.json');
  const markets = [testMarket(1, { maker: -50, taker: 300 })].map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }));
  writeFileSync(file, content ?? JSON.stringify(markets));
  return file;
}

const rejects = (env: Record<string, string>, variable: string): void => {
  assert.throws(
    () => loadRiskConfig(env),
    (e: unknown) => e instanceof ConfigError && e.message.includes(variable),
    variable,
  );
};

describe('risk configuration', () => {
  it('defaults to the topics and shard count the matching engine writes account events to', () => {
    const c = loadRiskConfig({ RISK_MARKETS_FILE: marketsFile() });
    const engine = loadMatchingEngineConfig({});
    assert.ok(engine.accountEvents !== undefined, 'the engine emits account events by default');
    assert.equal(c.shards.inputs.accountEvents, engine.accountEvents.topic);
    assert.equal(c.shards.shards, engine.accountEvents.shards);
    assert.deepEqual(c.shards.inputs, DEFAULT_RISK_TOPICS);
    assert.deepEqual(c.shards.state, DEFAULT_RISK_STATE_TOPICS);
    assert.equal(c.shards.ordersTopic, engine.topics.orders);
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 9104 });
    assert.equal(c.shards.ensureTopics, true);
    assert.equal(loadRiskConfig({ RISK_MARKETS_FILE: marketsFile(), ENSURE_TOPICS: 'false' }).shards.ensureTopics, false);
  });

  it('refuses bad values, naming the variable', () => {
    const file = marketsFile();
    rejects({}, 'RISK_MARKETS_FILE');
    rejects({ RISK_MARKETS_FILE: marketsFile('[{"marketId": 1}]') }, 'RISK_MARKETS_FILE');
    rejects({ RISK_MARKETS_FILE: file, ACCOUNT_SHARDS: '0' }, 'ACCOUNT_SHARDS');
    rejects({ RISK_MARKETS_FILE: file, TOPIC_CHAIN_EVENTS: 'bad topic' }, 'TOPIC_CHAIN_EVENTS');
    rejects({ RISK_MARKETS_FILE: file, SNAPSHOT_EVERY_MESSAGES: '0' }, 'SNAPSHOT_EVERY_MESSAGES');
    rejects({ RISK_MARKETS_FILE: file, RISK_HTTP_PORT: '70000' }, 'RISK_HTTP_PORT');
    rejects({ RISK_MARKETS_FILE: file, ENSURE_TOPICS: 'yes' }, 'ENSURE_TOPICS');
  });
});
