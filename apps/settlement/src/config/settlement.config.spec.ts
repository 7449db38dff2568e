import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { SettlementMarket } from '@parallax/chain';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS } from '@parallax/contracts';
import { ConfigError } from '@parallax/observability';
import { formatSettlementMarkets, loadSettlementConfig, parseSettlementMarkets } from './settlement.config.js';

const A1 = '0x00000000000000000000000000000000000000a1';
const A2 = '0x00000000000000000000000000000000000000a2';
const A3 = '0x00000000000000000000000000000000000000a3';
const A4 = '0x00000000000000000000000000000000000000A4';
const KEY = `0x${'11'.repeat(32)}`;

const market = (marketId: number, over: Record<string, unknown> = {}) => ({
  marketId,
  baseToken: A2,
  quoteToken: A3,
  lotSize: '1000000000000000', // 1e15
  tickSize: '1000', // 1e15 * 1e3 = 1e18
  ...over,
});

const MINIMAL = {
  RPC_URL: 'http://127.0.0.1:8545',
  SETTLEMENT_ADDRESS: A1,
  OPERATOR_PRIVATE_KEY: KEY,
  SETTLEMENT_MARKETS: JSON.stringify([market(1)]),
  DATABASE_URL: 'postgresql://settlement@127.0.0.1:5432/settlement',
  SETTLEMENT_DEPLOY_BLOCK: '17',
} as const;

const env = (over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...MINIMAL, ...over };
  for (const [k, v] of Object.entries(e)) if (v === undefined) Reflect.deleteProperty(e, k);
  return e;
};

/** Asserts a ConfigError one of whose problems starts with the variable's name. */
function rejects(fn: () => unknown, variable: string, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(variable), `message does not name ${variable}: ${err.message}`);
    const own = err.problems.filter((p) => p.startsWith(`${variable}:`) || p.startsWith(`${variable}[`));
    assert.ok(own.length > 0, `no problem for ${variable} in ${JSON.stringify(err.problems)}`);
    if (detail !== undefined) assert.ok(own.some((p) => detail.test(p)), `no problem matches ${String(detail)}: ${JSON.stringify(own)}`);
    return true;
  });
}

describe('loadSettlementConfig', () => {
  it('loads a minimal environment, with checksummed addresses and the documented defaults', () => {
    const c = loadSettlementConfig(env());
    assert.equal(c.rpcUrl, 'http://127.0.0.1:8545');
    assert.equal(c.settlement, '0x00000000000000000000000000000000000000A1');
    assert.equal(c.operatorKey, KEY);
    assert.equal(c.chainId, undefined);
    assert.equal(c.kafkaBrokers, undefined);
    assert.deepEqual(c.kafkaConsumer, {});
    assert.deepEqual(c.topics, {
      marketEvents: DEFAULT_TOPICS.marketEvents,
      deadLetters: DEFAULT_TOPICS.deadLetters,
      signedOrders: DEFAULT_SETTLEMENT_TOPICS.signedOrders,
      settlementStatus: DEFAULT_SETTLEMENT_TOPICS.settlementStatus,
    });
    assert.deepEqual(
      c.markets,
      new Map([[1, { marketId: 1, baseToken: '0x00000000000000000000000000000000000000A2', quoteToken: '0x00000000000000000000000000000000000000A3', lotSize: 10n ** 15n, tickSize: 1000n }]]),
    );
    assert.deepEqual(c.fees, { makerFeeRate: 0, takerFeeRate: 0 });
    assert.deepEqual(c.batch, { maxFills: 500, maxGas: 15_000_000, maxAgeMs: 2_000, signedOrderWaitMs: 60_000 });
    assert.deepEqual(c.settler, {
      confirmations: 1,
      replaceAfterMs: 15_000,
      feeBumpPercent: 25,
      priorityFeePerGas: 1_000_000_000n,
      maxFeePerGasCap: 500_000_000_000n,
      pollIntervalMs: 200,
      logsFromBlock: 17n,
    });
    assert.equal(c.databaseUrl, MINIMAL.DATABASE_URL);
    assert.equal(c.allowEphemeralDb, false);
  });

  it('refuses to start without DATABASE_URL unless SETTLEMENT_ALLOW_EPHEMERAL_DB=true says it is development', () => {
    rejects(() => loadSettlementConfig(env({ DATABASE_URL: undefined })), 'DATABASE_URL', /SETTLEMENT_ALLOW_EPHEMERAL_DB/);
    rejects(() => loadSettlementConfig(env({ DATABASE_URL: undefined, SETTLEMENT_ALLOW_EPHEMERAL_DB: 'false' })), 'DATABASE_URL');
    rejects(() => loadSettlementConfig(env({ DATABASE_URL: undefined, SETTLEMENT_ALLOW_EPHEMERAL_DB: 'yes' })), 'SETTLEMENT_ALLOW_EPHEMERAL_DB');
    const dev = loadSettlementConfig(env({ DATABASE_URL: undefined, SETTLEMENT_ALLOW_EPHEMERAL_DB: 'true' }));
    assert.equal(dev.databaseUrl, undefined);
    assert.equal(dev.allowEphemeralDb, true);
  });

  it('requires SETTLEMENT_DEPLOY_BLOCK, a positive block number', () => {
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_DEPLOY_BLOCK: undefined })), 'SETTLEMENT_DEPLOY_BLOCK', /required/);
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_DEPLOY_BLOCK: '0' })), 'SETTLEMENT_DEPLOY_BLOCK');
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_DEPLOY_BLOCK: '-3' })), 'SETTLEMENT_DEPLOY_BLOCK');
  });

  it('reads the limits at their boundaries', () => {
    const c = loadSettlementConfig(
      env({
        MAKER_FEE_RATE: '100000',
        TAKER_FEE_RATE: '100000',
        BATCH_MAX_GAS: '16777216',
        BATCH_MAX_FILLS: '1',
        CONFIRMATIONS: '1',
        FEE_BUMP_PERCENT: '13',
        CHAIN_ID: '31337',
        PRIORITY_FEE_WEI: '123456789012345678901234567890',
        KAFKA_BROKERS: 'a:1, b:2',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
      }),
    );
    assert.deepEqual(c.fees, { makerFeeRate: 100_000, takerFeeRate: 100_000 });
    assert.equal(c.batch.maxGas, 16_777_216);
    assert.equal(c.batch.maxFills, 1);
    assert.equal(c.settler.confirmations, 1);
    assert.equal(c.settler.feeBumpPercent, 13);
    assert.equal(c.settler.priorityFeePerGas, 123456789012345678901234567890n);
    assert.equal(c.chainId, 31337);
    assert.deepEqual(c.kafkaBrokers, ['a:1', 'b:2']);
    assert.deepEqual(c.kafkaConsumer, { sessionTimeoutMs: 6000 });
  });

  it('refuses a bad RPC_URL', () => {
    rejects(() => loadSettlementConfig(env({ RPC_URL: 'not a url' })), 'RPC_URL');
    rejects(() => loadSettlementConfig(env({ RPC_URL: 'ws://127.0.0.1:8545' })), 'RPC_URL');
    rejects(() => loadSettlementConfig(env({ RPC_URL: undefined })), 'RPC_URL');
  });

  it('refuses a bad SETTLEMENT_ADDRESS', () => {
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_ADDRESS: '0x1234' })), 'SETTLEMENT_ADDRESS');
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_ADDRESS: `${A1}00` })), 'SETTLEMENT_ADDRESS');
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_ADDRESS: '0x00000000000000000000000000000000000000g1' })), 'SETTLEMENT_ADDRESS');
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_ADDRESS: undefined })), 'SETTLEMENT_ADDRESS');
  });

  it('refuses an OPERATOR_PRIVATE_KEY that is not 32 bytes of hex', () => {
    rejects(() => loadSettlementConfig(env({ OPERATOR_PRIVATE_KEY: `0x${'11'.repeat(31)}` })), 'OPERATOR_PRIVATE_KEY');
    rejects(() => loadSettlementConfig(env({ OPERATOR_PRIVATE_KEY: '11'.repeat(32) })), 'OPERATOR_PRIVATE_KEY');
    rejects(() => loadSettlementConfig(env({ OPERATOR_PRIVATE_KEY: `0x${'zz'.repeat(32)}` })), 'OPERATOR_PRIVATE_KEY');
  });

  it('refuses fee rates over 100000 (10%)', () => {
    rejects(() => loadSettlementConfig(env({ MAKER_FEE_RATE: '100001' })), 'MAKER_FEE_RATE');
    rejects(() => loadSettlementConfig(env({ TAKER_FEE_RATE: '100001' })), 'TAKER_FEE_RATE');
    rejects(() => loadSettlementConfig(env({ TAKER_FEE_RATE: '-1' })), 'TAKER_FEE_RATE');
  });

  it('takes a negative MAKER_FEE_RATE (a rebate) down to -TAKER_FEE_RATE, and refuses a rebate above the taker fee', () => {
    assert.deepEqual(loadSettlementConfig(env({ MAKER_FEE_RATE: '-100', TAKER_FEE_RATE: '100' })).fees, { makerFeeRate: -100, takerFeeRate: 100 });
    rejects(() => loadSettlementConfig(env({ MAKER_FEE_RATE: '-101', TAKER_FEE_RATE: '100' })), 'MAKER_FEE_RATE', /TAKER_FEE_RATE/);
    rejects(() => loadSettlementConfig(env({ MAKER_FEE_RATE: '-1' })), 'MAKER_FEE_RATE');
    rejects(() => loadSettlementConfig(env({ MAKER_FEE_RATE: '-100001', TAKER_FEE_RATE: '100000' })), 'MAKER_FEE_RATE');
  });

  it("reads a market's own fee rates (the risk shards' market list format) and refuses a rebate above its taker fee", () => {
    const riskFormat = [market(1, { baseToken: A2.toLowerCase(), makerFeeRate: -50, takerFeeRate: 200 }), market(2, { baseToken: A1 })];
    const c = loadSettlementConfig(env({ SETTLEMENT_MARKETS: JSON.stringify(riskFormat) }));
    assert.equal(c.markets.get(1)?.makerFeeRate, -50);
    assert.equal(c.markets.get(1)?.takerFeeRate, 200);
    assert.equal('makerFeeRate' in (c.markets.get(2) ?? {}), false);
    assert.deepEqual(parseSettlementMarkets(formatSettlementMarkets(c.markets.values())), c.markets);
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: JSON.stringify([market(1, { makerFeeRate: -201, takerFeeRate: 200 })]) })), 'SETTLEMENT_MARKETS', /rebate/);
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: JSON.stringify([market(1, { makerFeeRate: -1 })]) })), 'SETTLEMENT_MARKETS', /together/);
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: JSON.stringify([market(1, { makerFeeRate: 0.5, takerFeeRate: 1 })]) })), 'SETTLEMENT_MARKETS');
  });

  it('refuses BATCH_MAX_GAS over the 16,777,216 per-transaction cap', () => {
    rejects(() => loadSettlementConfig(env({ BATCH_MAX_GAS: '16777217' })), 'BATCH_MAX_GAS');
  });

  it('refuses CONFIRMATIONS 0 and FEE_BUMP_PERCENT under the 13% nodes require for a replacement', () => {
    rejects(() => loadSettlementConfig(env({ CONFIRMATIONS: '0' })), 'CONFIRMATIONS');
    rejects(() => loadSettlementConfig(env({ FEE_BUMP_PERCENT: '5' })), 'FEE_BUMP_PERCENT');
    rejects(() => loadSettlementConfig(env({ FEE_BUMP_PERCENT: '12' })), 'FEE_BUMP_PERCENT');
  });

  it('names every bad variable at once', () => {
    assert.throws(
      () => loadSettlementConfig(env({ RPC_URL: 'nope', CONFIRMATIONS: '0' })),
      (err: unknown) => err instanceof ConfigError && /RPC_URL/.test(err.message) && /CONFIRMATIONS/.test(err.message),
    );
  });

  it('requires SETTLEMENT_MARKETS (or SETTLEMENT_MARKETS_FILE)', () => {
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: undefined })), 'SETTLEMENT_MARKETS');
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: '' })), 'SETTLEMENT_MARKETS');
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: 'not json' })), 'SETTLEMENT_MARKETS', /not JSON/);
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: '[]' })), 'SETTLEMENT_MARKETS');
  });

  it('reads the markets from SETTLEMENT_MARKETS_FILE, naming that variable when it is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settlement-config-'));
    const file = join(dir, 'markets.json');
    writeFileSync(file, JSON.stringify({ markets: [market(4)] }));
    const c = loadSettlementConfig(env({ SETTLEMENT_MARKETS: undefined, SETTLEMENT_MARKETS_FILE: file }));
    assert.deepEqual([...c.markets.keys()], [4]);
    writeFileSync(file, JSON.stringify([market(4, { tickSize: '7' })]));
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: undefined, SETTLEMENT_MARKETS_FILE: file })), 'SETTLEMENT_MARKETS_FILE', /market 4/);
    rejects(() => loadSettlementConfig(env({ SETTLEMENT_MARKETS: undefined, SETTLEMENT_MARKETS_FILE: join(dir, 'missing.json') })), 'SETTLEMENT_MARKETS_FILE');
  });
});

describe('parseSettlementMarkets', () => {
  it('accepts a list or { markets }, amounts as strings or safe integers', () => {
    const list = parseSettlementMarkets(JSON.stringify([market(2), market(9, { baseToken: A4, lotSize: 1_000_000, tickSize: '1000000000000' })]));
    assert.deepEqual([...list.keys()], [2, 9]);
    assert.equal(list.get(9)?.lotSize, 1_000_000n);
    assert.equal(list.get(9)?.tickSize, 10n ** 12n);
    // Stored in its EIP-55 form whatever case it was written in (for this address, all lower case).
    assert.equal(list.get(9)?.baseToken, '0x00000000000000000000000000000000000000a4');
    const wrapped = parseSettlementMarkets(JSON.stringify({ markets: [market(2)] }));
    assert.deepEqual(wrapped, new Map([[2, list.get(2)]]));
  });

  it('rejects a market whose lotSize * tickSize is not a multiple of 1e18, naming the market', () => {
    rejects(() => parseSettlementMarkets(JSON.stringify([market(1), market(7, { lotSize: '1000', tickSize: '1000' })])), 'SETTLEMENT_MARKETS', /market 7\b/);
    // One base unit short of 1e18.
    rejects(() => parseSettlementMarkets(JSON.stringify([market(3, { lotSize: '1', tickSize: '999999999999999999' })])), 'SETTLEMENT_MARKETS', /market 3\b/);
    assert.equal(parseSettlementMarkets(JSON.stringify([market(3, { lotSize: '1', tickSize: '1000000000000000000' })])).size, 1);
  });

  it('rejects a marketId listed twice', () => {
    rejects(() => parseSettlementMarkets(JSON.stringify([market(3), market(4), market(3)])), 'SETTLEMENT_MARKETS', /market 3 is listed twice/);
  });

  it('rejects bad fields, naming the variable it was given', () => {
    rejects(() => parseSettlementMarkets(JSON.stringify([market(1, { baseToken: '0x12' })]), 'MY_VAR'), 'MY_VAR', /baseToken/);
    rejects(() => parseSettlementMarkets(JSON.stringify([market(1, { quoteToken: A2 })])), 'SETTLEMENT_MARKETS', /same token/);
    rejects(() => parseSettlementMarkets(JSON.stringify([market(1, { lotSize: '0' })])), 'SETTLEMENT_MARKETS', /lotSize/);
    rejects(() => parseSettlementMarkets(JSON.stringify([market(1, { lotSize: '1.5' })])), 'SETTLEMENT_MARKETS', /lotSize/);
    rejects(() => parseSettlementMarkets(JSON.stringify([market(-1)])), 'SETTLEMENT_MARKETS', /marketId/);
    // A JSON number past 2^53 has already lost digits: refused rather than silently rounded.
    rejects(() => parseSettlementMarkets('[{"marketId":1,"baseToken":"' + A2 + '","quoteToken":"' + A3 + '","lotSize":1,"tickSize":1000000000000000001}]'), 'SETTLEMENT_MARKETS', /tickSize/);
    rejects(() => parseSettlementMarkets(JSON.stringify({ nope: [] })), 'SETTLEMENT_MARKETS');
    rejects(() => parseSettlementMarkets('null'), 'SETTLEMENT_MARKETS');
  });
});

describe('formatSettlementMarkets', () => {
  const UINT128_MAX = (1n << 128n) - 1n;
  const SCALE = 10n ** 18n;
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const marketArb = fc
    .record({
      marketId: fc.nat(),
      base: fc.integer({ min: 1, max: 0xffff }),
      quote: fc.integer({ min: 1, max: 0xffff }),
      lotSize: fc.bigInt({ min: 1n, max: 1n << 100n }),
      k: fc.bigInt({ min: 1n, max: 1n << 20n }),
    })
    .filter((r) => r.base !== r.quote)
    .map(({ marketId, base, quote, lotSize, k }): SettlementMarket => {
      const tickSize = (SCALE / gcd(lotSize, SCALE)) * k;
      return {
        marketId,
        baseToken: `0x${base.toString(16).padStart(40, '0')}`,
        quoteToken: `0x${quote.toString(16).padStart(40, 'A')}`,
        lotSize,
        tickSize,
      };
    })
    .filter((m) => m.tickSize <= UINT128_MAX);

  it('round-trips through parseSettlementMarkets', () => {
    fc.assert(
      fc.property(fc.uniqueArray(marketArb, { minLength: 1, maxLength: 5, selector: (m) => m.marketId }), (markets) => {
        const parsed = parseSettlementMarkets(formatSettlementMarkets(markets));
        assert.equal(parsed.size, markets.length);
        for (const m of markets) {
          const p = parsed.get(m.marketId);
          assert.ok(p !== undefined);
          assert.equal(p.lotSize, m.lotSize);
          assert.equal(p.tickSize, m.tickSize);
          assert.equal(p.baseToken.toLowerCase(), m.baseToken.toLowerCase());
          assert.equal(p.quoteToken.toLowerCase(), m.quoteToken.toLowerCase());
          // Parsed addresses come back checksummed, and a second round is then exact.
          assert.deepEqual(parseSettlementMarkets(formatSettlementMarkets(parsed.values())), parsed);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('writes amounts as decimal strings (no precision lost to JSON numbers)', () => {
    const m: SettlementMarket = { marketId: 1, baseToken: A2, quoteToken: A3, lotSize: UINT128_MAX, tickSize: SCALE };
    const json = formatSettlementMarkets([m]);
    assert.deepEqual(JSON.parse(json), [{ marketId: 1, baseToken: A2, quoteToken: A3, lotSize: UINT128_MAX.toString(), tickSize: SCALE.toString() }]);
    assert.equal(parseSettlementMarkets(json).get(1)?.lotSize, UINT128_MAX);
  });
});
