// The demo's markets as the API shows them and as the chain settles them must be the same markets: for every
// demo market, the lot and tick of /v1/markets (whole tokens) equal the on-chain units the signed orders carry
// (lotSizeUnits, tickSizeUnits) scaled by the decimals the token contracts report, and those units are the
// ones the settlement service and the local chain use. A market whose base token has other decimals than its
// units assume (an 8-decimal token with a lot of 1e4 units is 0.0001, not the catalogue's 0.001) fails here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decimalUnits, sameDecimal, testTokenAbi } from '@parallax/chain';
import { createLogger } from '@parallax/observability';
import type { Address } from 'viem';
import { loadExchangeConfig } from '../exchange.config.js';
import { startExchange, type RunningExchange } from '../exchange.js';
import { demoMarkets } from './demo-markets.js';

interface ApiMarket {
  readonly symbol: string;
  readonly marketId: number;
  readonly base: string;
  readonly baseToken: Address;
  readonly quoteToken: Address;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly tickSizeUnits: string;
  readonly lotSizeUnits: string;
}

// Every named demo market and two past the names (odd and even ids: both test base tokens).
const COUNT = 10;

describe('npm start demo markets: the API and the chain agree', () => {
  let exchange: RunningExchange;

  before(async () => {
    const config = loadExchangeConfig({ MARKETS: String(COUNT), PARTITIONS: '2', EXCHANGE_ENGINES: '1', GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0' });
    exchange = await startExchange(config, createLogger('demo-markets-e2e', 'silent'), { markets: demoMarkets(COUNT) });
  });
  after(async () => {
    await exchange.close();
  });

  it('every demo market: lot, tick and token decimals of /v1/markets equal the on-chain units', async () => {
    const local = exchange.localChain;
    assert.ok(local !== undefined && exchange.settlement !== undefined, 'the demo runs with a local chain and settlement');
    const res = await fetch(`${exchange.gatewayUrl}/v1/markets`);
    assert.equal(res.status, 200);
    const api = ((await res.json()) as { markets: ApiMarket[] }).markets;
    const catalogue = demoMarkets(COUNT);
    assert.deepEqual(api.map((m) => m.symbol), catalogue.map((m) => m.symbol), 'the API serves every demo market');
    const decimalsOf = (token: Address): Promise<number> => local.chain.publicClient.readContract({ address: token, abi: testTokenAbi, functionName: 'decimals' });
    const bases = new Set<number>();
    for (const m of api) {
      const def = catalogue.find((d) => d.marketId === m.marketId)!;
      const decimals = { base: await decimalsOf(m.baseToken), quote: await decimalsOf(m.quoteToken) };
      bases.add(decimals.base);
      const onChain = { lotSize: BigInt(m.lotSizeUnits), tickSize: BigInt(m.tickSizeUnits) };
      const whole = decimalUnits(onChain, decimals);
      const what = `${m.symbol} (base ${decimals.base} decimals, quote ${decimals.quote})`;
      assert.ok(sameDecimal(whole.lotSize, m.lotSize), `${what}: lot ${m.lotSize} shown, ${whole.lotSize} on chain (${m.lotSizeUnits} units)`);
      assert.ok(sameDecimal(whole.tickSize, m.tickSize), `${what}: tick ${m.tickSize} shown, ${whole.tickSize} on chain (${m.tickSizeUnits} units)`);
      assert.ok(sameDecimal(m.lotSize, def.lotSize) && sameDecimal(m.tickSize, def.tickSize), `${what}: the API shows the catalogue's lot and tick`);
      // What the signed orders carry is what the settlement service and the chain settle with.
      for (const [who, s] of [['settlement service', exchange.settlement.config.markets.get(m.marketId)], ['local chain', local.markets.find((x) => x.marketId === m.marketId)]] as const) {
        assert.ok(s !== undefined, `${what}: no ${who} market`);
        assert.deepEqual(
          { baseToken: s.baseToken.toLowerCase(), quoteToken: s.quoteToken.toLowerCase(), lotSize: s.lotSize, tickSize: s.tickSize },
          { baseToken: m.baseToken.toLowerCase(), quoteToken: m.quoteToken.toLowerCase(), ...onChain },
          `${what}: the ${who}'s market`,
        );
      }
    }
    assert.deepEqual([...bases].sort((a, b) => a - b), [8, 18], 'both test base tokens (8 and 18 decimals) are covered');
  });
});
