// A local settlement stack for tests, the benchmark and npm start: anvil with the contracts, markets on test
// tokens (odd ids an 18-decimal base, even ids an 8-decimal one, both against a 6-decimal quote), funded
// traders, and a SettlementConfig pointing at it. Each market's on-chain units are derived from its catalogue
// definition (lot and tick in whole tokens, what the API shows) and the tokens' decimals: they cannot disagree.
import { ANVIL_MNEMONIC, assertSettlementMarket, settlementUnits, startLocalChain, type LocalChain, type LocalChainOptions, type SettlementMarket } from '@parallax/chain';
import { defaultMarkets, type MarketDefinition } from '@parallax/contracts';
import { bytesToHex, type Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { SettlementConfig } from '../config/settlement.config.js';

export type LocalToken = 'BASE' | 'ALT' | 'QUOTE';

/** The local chain's test tokens and their decimals. */
export const LOCAL_TOKENS: readonly { readonly symbol: LocalToken; readonly decimals: number }[] = [
  { symbol: 'BASE', decimals: 18 },
  { symbol: 'ALT', decimals: 8 },
  { symbol: 'QUOTE', decimals: 6 },
];

export interface LocalSettlementChain {
  readonly chain: LocalChain;
  readonly markets: readonly SettlementMarket[];
  /** What each trader was given, per token: (address, token) -> amount. */
  readonly deposits: Map<string, bigint>;
  fundTraders(traders: readonly Address[], amounts?: Partial<Record<LocalToken, bigint>>): Promise<void>;
}

export const DEFAULT_DEPOSITS = { BASE: 10n ** 24n, ALT: 10n ** 16n, QUOTE: 10n ** 15n } as const;

export interface LocalSettlementOptions extends LocalChainOptions {
  /**
   * The markets: a catalogue (its ids, lots and ticks), or a count n for defaultMarkets(n) (default 2). Odd
   * ids settle BASE/QUOTE, even ids ALT/QUOTE.
   */
  readonly markets?: number | readonly Pick<MarketDefinition, 'marketId' | 'lotSize' | 'tickSize'>[];
}

/** The base token of a local market: odd ids BASE (18 decimals), even ids ALT (8 decimals). */
export function localBaseToken(marketId: number): LocalToken {
  return marketId % 2 === 1 ? 'BASE' : 'ALT';
}

/** The decimals of a local test token. */
export function localTokenDecimals(symbol: LocalToken): number {
  const t = LOCAL_TOKENS.find((x) => x.symbol === symbol);
  if (t === undefined) throw new Error(`no local token ${symbol}`);
  return t.decimals;
}

export async function startLocalSettlementChain(options: LocalSettlementOptions = {}): Promise<LocalSettlementChain> {
  const catalogue = typeof options.markets === 'object' ? options.markets : defaultMarkets(options.markets ?? 2);
  // Derived before anything starts: a catalogue unit the tokens cannot represent stops here (INVALID_MARKET).
  const units = catalogue.map((def) => ({ def, ...settlementUnits(def, { base: localTokenDecimals(localBaseToken(def.marketId)), quote: localTokenDecimals('QUOTE') }) }));
  const chain = await startLocalChain({ ...options, tokens: LOCAL_TOKENS });
  const t = chain.tokens as Record<LocalToken, Address>;
  // E.g. the default lot 0.001 and tick 0.01: BASE lot 1e15 units, tick 1e4 (quote units per 1e18 base
  // units); ALT lot 1e5 units, tick 1e14. Either way one lot at one tick is 10 quote units (0.00001 USDC).
  const markets: SettlementMarket[] = units.map(({ def, lotSize, tickSize }) => {
    const m = { marketId: def.marketId, baseToken: t[localBaseToken(def.marketId)], quoteToken: t.QUOTE, lotSize, tickSize };
    assertSettlementMarket(m);
    return m;
  });
  const deposits = new Map<string, bigint>();
  return {
    chain,
    markets,
    deposits,
    async fundTraders(traders, amounts = {}) {
      for (const trader of traders) {
        for (const sym of ['BASE', 'ALT', 'QUOTE'] as const) {
          const amount = amounts[sym] ?? DEFAULT_DEPOSITS[sym];
          if (amount === 0n) continue;
          await chain.fund(trader, t[sym], amount);
          const k = `${trader.toLowerCase()}/${t[sym].toLowerCase()}`;
          deposits.set(k, (deposits.get(k) ?? 0n) + amount);
        }
      }
    },
  };
}

/** The operator key of the local chain (dev account 1 of anvil's well-known mnemonic). */
export function localOperatorKey(): `0x${string}` {
  const key = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 }).getHdKey().privateKey;
  if (key === null) throw new Error('no private key for dev account 1');
  return bytesToHex(key);
}

export function localSettlementConfig(
  local: LocalSettlementChain,
  topics: SettlementConfig['topics'],
  overrides: Partial<SettlementConfig> = {},
): SettlementConfig {
  return {
    kafkaBrokers: undefined,
    kafkaClientId: 'settlement-test',
    kafkaConsumer: {},
    logLevel: 'info',
    logFormat: 'json',
    groupId: `settlement-${topics.signedOrders}`,
    topics,
    partitions: 2,
    ensureTopics: true,
    databaseUrl: undefined,
    // Callers that run on embedded PGlite say so (as npm start does); PostgreSQL runs set databaseUrl.
    allowEphemeralDb: false,
    dataDir: undefined,
    rpcUrl: local.chain.anvil.rpcUrl,
    chainId: local.chain.anvil.chainId,
    settlement: local.chain.settlement,
    operatorKey: localOperatorKey(),
    markets: new Map(local.markets.map((m) => [m.marketId, m])),
    fees: { makerFeeRate: 500, takerFeeRate: 1_000 },
    batch: { maxFills: 200, maxGas: 15_000_000, maxAgeMs: 300, signedOrderWaitMs: 30_000 },
    settler: {
      confirmations: 1,
      replaceAfterMs: 5_000,
      feeBumpPercent: 25,
      priorityFeePerGas: 1_000_000_000n,
      maxFeePerGasCap: 500_000_000_000n,
      pollIntervalMs: 50,
      // The contract is deployed in one of anvil's first blocks: searching from block 1 covers it.
      logsFromBlock: 1n,
    },
    httpHost: '127.0.0.1',
    httpPort: 0,
    ...overrides,
  };
}

/** The topics of one test run (unique names, so runs on a shared broker never see each other's data). */
export function runTopics(run: string) {
  return {
    orders: `${run}.orders`,
    marketEvents: `${run}.market-events`,
    snapshots: `${run}.snapshots`,
    deadLetters: `${run}.dead-letters`,
    signedOrders: `${run}.signed-orders`,
    settlementStatus: `${run}.settlement-status`,
  };
}

/** The settlement service's share of a run's topics. */
export function settlementTopicsOf(t: ReturnType<typeof runTopics>): SettlementConfig['topics'] {
  return { marketEvents: t.marketEvents, deadLetters: t.deadLetters, signedOrders: t.signedOrders, settlementStatus: t.settlementStatus };
}

/** Environment of a matching engine on a run's topics (group `<run>.engine`), markets 1..markets. */
export function engineEnvFor(run: string, brokers: string, partitions: number, markets: number): Record<string, string> {
  const t = runTopics(run);
  return {
    KAFKA_BROKERS: brokers,
    ENGINE_GROUP_ID: `${run}.engine`,
    TOPIC_ORDERS: t.orders,
    TOPIC_MARKET_EVENTS: t.marketEvents,
    TOPIC_SNAPSHOTS: t.snapshots,
    TOPIC_DEAD_LETTERS: t.deadLetters,
    PARTITIONS: String(partitions),
    MARKETS: String(markets),
    ENGINE_HTTP_PORT: '0',
  };
}
