import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarketCatalogue } from '@parallax/contracts';
import { ConfigError } from '@parallax/observability';
import { botsEnabled, loadExchangeConfig } from '../exchange.config.js';
import { demoAccounts, FIRST_DEMO_ACCOUNT } from './demo-accounts.js';
import { demoMarkets, demoStartPrices } from './demo-markets.js';
import { createLogger } from '@parallax/observability';
import { createScreen, endpoints, whereLines, type Where } from './demo-screen.js';

describe('npm start demo', () => {
  it('names the first markets and keeps ids, units and the rest of the default catalogue', () => {
    const markets = demoMarkets(10);
    assert.deepEqual(markets.slice(0, 3).map((m) => m.symbol), ['ETH-USDC', 'BTC-USDC', 'SOL-USDC']);
    assert.deepEqual(markets.slice(8).map((m) => m.symbol), ['M9-USDC', 'M10-USDC']);
    assert.deepEqual(markets.map((m) => m.marketId), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // A valid catalogue (unique symbols, valid assets) as the gateway builds it.
    assert.equal(new MarketCatalogue(markets).all().length, 10);
    assert.deepEqual(demoStartPrices(markets.slice(0, 2)), { 'ETH-USDC': 3_000, 'BTC-USDC': 60_000 });
    assert.equal(demoStartPrices(markets)['M9-USDC'], 100);
  });

  it('uses anvil dev accounts 4, 5, 6 (not the deployer, operator, fee recipient or funder), the same on every run', () => {
    assert.equal(FIRST_DEMO_ACCOUNT, 4);
    const a = demoAccounts();
    // anvil's well-known dev account 4.
    assert.equal(a.marketMaker.address, '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65');
    assert.equal(new Set([a.marketMaker.address, a.marketMakerTradingKey.address, a.taker.address]).size, 3);
    assert.deepEqual(demoAccounts(), a);
  });

  it('bots: on with a local chain unless EXCHANGE_BOTS=false; explicitly on without a chain is refused', () => {
    assert.equal(botsEnabled(loadExchangeConfig({})), true);
    assert.equal(botsEnabled(loadExchangeConfig({ EXCHANGE_BOTS: 'false' })), false);
    assert.equal(botsEnabled(loadExchangeConfig({ EXCHANGE_LOCAL_CHAIN: 'false' })), false);
    assert.throws(() => loadExchangeConfig({ EXCHANGE_LOCAL_CHAIN: 'false', EXCHANGE_BOTS: 'true' }), (e: unknown) => e instanceof ConfigError && /EXCHANGE_BOTS/.test(e.message));
    for (const [k, v] of [['EXCHANGE_TAKER_RATE', '-1'], ['EXCHANGE_TAKER_RATE', 'fast'], ['EXCHANGE_MM_LEVELS', '0'], ['EXCHANGE_MM_LEVELS', '26'], ['EXCHANGE_BOTS', 'yes']] as const) {
      assert.throws(() => loadExchangeConfig({ [k]: v }), (e: unknown) => e instanceof ConfigError && e.message.includes(k), `${k}=${v}`);
    }
  });

  it('the block lists every address and labels the keys as test keys', () => {
    const accounts = demoAccounts();
    const text = whereLines({
      mode: 'embedded',
      gatewayUrl: 'http://127.0.0.1:3000',
      engineUrls: ['http://127.0.0.1:9101'],
      settlementUrl: 'http://127.0.0.1:9201',
      markets: ['ETH-USDC'],
      chain: { rpcUrl: 'http://127.0.0.1:8545', chainId: 31337, settlement: '0x5FbDB2315678afecb367f032d93F642f64180aa3', tokens: { QUOTE: '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707' } },
      bots: { takerRate: 2, levels: 5, marketMakerMetricsUrl: undefined, takerMetricsUrl: undefined },
      accounts,
      startedInS: 12.3,
    }).join('\n');
    const e = endpoints('http://127.0.0.1:3000');
    assert.equal(e.ws, 'ws://127.0.0.1:3000/ws');
    for (const s of [e.page, e.api, e.docs, e.ws, e.metrics, 'http://127.0.0.1:9101/metrics', 'http://127.0.0.1:9201/metrics', 'http://127.0.0.1:8545', '0x5FbDB2315678afecb367f032d93F642f64180aa3', accounts.taker.privateKey]) {
      assert.ok(text.includes(s), s);
    }
    const keysAt = text.indexOf('TEST KEYS');
    assert.ok(keysAt > 0 && keysAt < text.indexOf(accounts.marketMaker.privateKey), 'keys come under the TEST KEYS label');
  });

  it('in a terminal: one line per step with the time since start, then the block; nothing else on the screen', () => {
    const out: string[] = [];
    const screen = createScreen(true, createLogger('demo-spec', 'silent'), (l) => out.push(l));
    screen.step('gateway: REST, WebSocket, the page', { step: 'gateway', url: 'http://127.0.0.1:3000' });
    const where: Where = { mode: 'embedded', gatewayUrl: 'http://127.0.0.1:3000', engineUrls: [], settlementUrl: undefined, markets: ['ETH-USDC'], chain: undefined, bots: undefined, accounts: undefined, startedInS: 1 };
    screen.ready(where);
    assert.match(out[0]!, /^ {2}✓ gateway: REST, WebSocket, the page \(\d+\.\d s\)$/);
    assert.deepEqual(out.slice(1), whereLines(where));
    assert.ok(out.some((l) => l.includes('Bots        off')));
    assert.ok(!out.some((l) => l.includes('TEST KEYS')), 'no keys when no account was funded');
  });
});
