// The projector's configuration: the engine settings and topics default to the risk service's (the replay is
// exact only with the shards' own configuration), and a bad value names its variable.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@parallax/observability';
import { testMarket } from '@parallax/risk/testing';
import { loadRiskConfig } from '@parallax/risk-service';
import { loadProjectorConfig } from './projector.config.js';

function marketsFile(content?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'projector-config-')), 'markets.json');
  const markets = [testMarket(1, { maker: -50, taker: 300 })].map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }));
  writeFileSync(file, content ?? JSON.stringify(markets));
  return file;
}

const rejects = (env: Record<string, string>, variable: string): void => {
  assert.throws(
    () => loadProjectorConfig(env),
    (e: unknown) => e instanceof ConfigError && e.message.includes(variable),
    variable,
  );
};

describe('projector configuration', () => {
  it('reads the risk shards configuration from the same variables, with the same defaults', () => {
    const env = { RISK_MARKETS_FILE: marketsFile(), ACCOUNT_SHARDS: '3', EXPIRY_MARGIN_MS: '250' };
    const c = loadProjectorConfig(env);
    const risk = loadRiskConfig(env);
    assert.deepEqual(c.projector.inputs, risk.shards.inputs);
    assert.equal(c.projector.journal, risk.shards.state.journal);
    assert.equal(c.projector.shards, 3);
    assert.equal(c.projector.marketPartitions, risk.shards.marketPartitions);
    assert.equal(c.projector.expiryMarginTs, risk.shards.expiryMarginTs);
    assert.deepEqual(c.projector.markets, risk.shards.markets);
    assert.notEqual(c.projector.groupId, risk.shards.groupId);
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 9105 });
    assert.equal(c.databaseUrl, undefined);
  });

  it('refuses bad values, naming the variable', () => {
    const file = marketsFile();
    rejects({}, 'RISK_MARKETS_FILE');
    rejects({ RISK_MARKETS_FILE: marketsFile('not json') }, 'RISK_MARKETS_FILE');
    rejects({ RISK_MARKETS_FILE: file, ACCOUNT_SHARDS: '0' }, 'ACCOUNT_SHARDS');
    rejects({ RISK_MARKETS_FILE: file, TOPIC_RISK_JOURNAL: 'bad topic' }, 'TOPIC_RISK_JOURNAL');
    rejects({ RISK_MARKETS_FILE: file, PROJECTOR_MAX_BATCH_MESSAGES: '0' }, 'PROJECTOR_MAX_BATCH_MESSAGES');
    rejects({ RISK_MARKETS_FILE: file, PROJECTOR_HTTP_PORT: '70000' }, 'PROJECTOR_HTTP_PORT');
    rejects({ RISK_MARKETS_FILE: file, DATABASE_URL: '  ' }, 'DATABASE_URL');
  });
});
