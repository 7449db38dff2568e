import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@parallax/observability';
import { botOptionsFrom, loadBotConfig } from './bot.config.js';

const key = `0x${'11'.repeat(32)}`;

describe('bot configuration', () => {
  it('starts the bots whose keys are set, with the documented defaults', () => {
    const { marketMaker, taker } = botOptionsFrom(loadBotConfig({ MM_PRIVATE_KEY: key }));
    assert.equal(taker, undefined);
    assert.equal(marketMaker?.gatewayUrl, 'http://127.0.0.1:3000');
    assert.equal(marketMaker.markets, undefined);
    assert.deepEqual(marketMaker.quoting, { spreadBps: 20, levels: 5, levelSpacingBps: 10, size: 1, sizeGrowth: 0.5, skewBpsPerUnit: 2, maxSkewBps: 50, maxInventory: 50 });
    const both = botOptionsFrom(loadBotConfig({ MM_PRIVATE_KEY: key, TAKER_PRIVATE_KEY: key, TAKER_MARKETS: 'M1-USDC, M2-USDC', TAKER_RATE: '5' }));
    assert.deepEqual(both.taker?.markets, ['M1-USDC', 'M2-USDC']);
    const wallet = '0x3000000000000000000000000000000000000003';
    assert.equal(botOptionsFrom(loadBotConfig({ MM_PRIVATE_KEY: key, MM_TRADER: wallet })).marketMaker?.trader, wallet);
    assert.throws(() => loadBotConfig({ MM_PRIVATE_KEY: key, MM_TRADER: '0x12' }), /MM_TRADER: must be an address/);
    assert.equal(both.taker.ratePerSecond, 5);
  });

  it('names every bad variable and never echoes a key', () => {
    const secret = `0x${'ab'.repeat(31)}`;
    assert.throws(
      () => loadBotConfig({ MM_PRIVATE_KEY: secret, MM_LEVELS: '0', MM_SPREAD_BPS: 'wide', BOT_GATEWAY_URL: 'ftp://x', TAKER_MARKETS: 'M1-USDC,;drop' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        for (const v of ['MM_PRIVATE_KEY', 'MM_LEVELS', 'MM_SPREAD_BPS', 'BOT_GATEWAY_URL', 'TAKER_MARKETS']) assert.match(e.message, new RegExp(v));
        assert.doesNotMatch(e.message, /abab/);
        return true;
      },
    );
    assert.throws(() => loadBotConfig({}), /MM_PRIVATE_KEY: set MM_PRIVATE_KEY/);
    assert.throws(() => loadBotConfig({ TAKER_PRIVATE_KEY: key, TAKER_MIN_SIZE: '3', TAKER_MAX_SIZE: '2' }), /TAKER_MAX_SIZE/);
  });

  it('the CLI refuses a bad variable with one line and exit 78', () => {
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    // A bound for a hang only: loading the code before the check took over 60 s of wall time at load 20 on 2 cores.
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', MM_PRIVATE_KEY: key, MM_DEADMAN_MS: '10' }, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 78);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^market-maker: invalid configuration: MM_DEADMAN_MS/);
  });
});
