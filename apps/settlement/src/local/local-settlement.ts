// A local settlement stack for tests, the benchmark and npm start: anvil with the contracts, two markets on
// test tokens (an 18-decimal and an 8-decimal base, both against a 6-decimal quote), funded traders, and a
// SettlementConfig pointing at it.
import { ANVIL_MNEMONIC, startLocalChain, type LocalChain, type LocalChainOptions, type SettlementMarket } from '@parallax/chain';
import { bytesToHex, type Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { SettlementConfig } from '../config/settlement.config.js';

export interface LocalSettlementChain {
  readonly chain: LocalChain;
  readonly markets: readonly SettlementMarket[];
  /** What each trader was given, per token: (address, token) -> amount. */
  readonly deposits: Map<string, bigint>;
  fundTraders(traders: readonly Address[], amounts?: Partial<Record<'BASE' | 'ALT' | 'QUOTE', bigint>>): Promise<void>;
}

export const DEFAULT_DEPOSITS = { BASE: 10n ** 24n, ALT: 10n ** 16n, QUOTE: 10n ** 15n } as const;

export interface LocalSettlementOptions extends LocalChainOptions {
  /** Markets 1..n: odd ids settle BASE/QUOTE, even ids ALT/QUOTE (default 2). */
  readonly markets?: number;
}

export async function startLocalSettlementChain(options: LocalSettlementOptions = {}): Promise<LocalSettlementChain> {
  const chain = await startLocalChain({
    ...options,
    tokens: [
      { symbol: 'BASE', decimals: 18 },
      { symbol: 'ALT', decimals: 8 },
      { symbol: 'QUOTE', decimals: 6 },
    ],
  });
  const t = chain.tokens as Record<'BASE' | 'ALT' | 'QUOTE', Address>;
  // BASE: lot 0.001 (1e15 units), tick 0.01 QUOTE per BASE (1e4 per 1e18 units): lot * tick = 1e19.
  // ALT: lot 0.0001 (1e4 units), tick 0.01 QUOTE per ALT (1e4 per 1e8 units = 1e14 per 1e18): lot * tick = 1e18.
  const markets: SettlementMarket[] = [];
  for (let marketId = 1; marketId <= (options.markets ?? 2); marketId++) {
    markets.push(
      marketId % 2 === 1
        ? { marketId, baseToken: t.BASE, quoteToken: t.QUOTE, lotSize: 10n ** 15n, tickSize: 10n ** 4n }
        : { marketId, baseToken: t.ALT, quoteToken: t.QUOTE, lotSize: 10n ** 4n, tickSize: 10n ** 14n },
    );
  }
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
