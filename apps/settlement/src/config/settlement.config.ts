import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { assertSettlementMarket, MAX_FEE_RATE, MAX_TX_GAS, type SettlementMarket } from '@parallax/chain';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS } from '@parallax/contracts';
import { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings } from '@parallax/microservice';
import { ConfigError, loadConfig, logEnvShape, logSettingsFrom, type LogSettings } from '@parallax/observability';
import { getAddress, isAddress, type Address, type Hex } from 'viem';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
    .default(fallback);
const address = z
  .string()
  .trim()
  .refine((s) => isAddress(s, { strict: false }), 'must be a 0x-prefixed 20-byte address')
  .transform((s) => getAddress(s));
const gwei = z
  .string()
  .trim()
  .regex(/^\d{1,30}$/, 'must be a whole number of wei')
  .transform((s) => BigInt(s));
const bool = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');

const schema = z.object({
  /** KAFKA_BROKERS (unset = a private embedded log, only useful in tests and npm start), client id, group timing. */
  ...kafkaEnvShape('parallax-settlement'),
  /** LOG_LEVEL, LOG_FORMAT. */
  ...logEnvShape(),
  SETTLEMENT_GROUP_ID: z.string().min(1).max(200).default('parallax-settlement'),
  TOPIC_MARKET_EVENTS: topic(DEFAULT_TOPICS.marketEvents),
  TOPIC_DEAD_LETTERS: topic(DEFAULT_TOPICS.deadLetters),
  TOPIC_SIGNED_ORDERS: topic(DEFAULT_SETTLEMENT_TOPICS.signedOrders),
  TOPIC_SETTLEMENT_STATUS: topic(DEFAULT_SETTLEMENT_TOPICS.settlementStatus),
  /** Partition count of market events / signed orders (to create the topics when missing). */
  PARTITIONS: int(1, 10_000).default(6),
  ENSURE_TOPICS: bool('true'),
  /**
   * PostgreSQL: the durable record of every unsettled fill and broadcast. Unset is refused unless
   * SETTLEMENT_ALLOW_EPHEMERAL_DB=true (development: embedded PGlite in SETTLEMENT_DATA_DIR, or memory).
   */
  DATABASE_URL: z.string().trim().min(1).optional(),
  SETTLEMENT_ALLOW_EPHEMERAL_DB: bool('false'),
  SETTLEMENT_DATA_DIR: z.string().min(1).optional(),
  /** EVM JSON-RPC endpoint and the deployed ParallaxSettlement contract. */
  RPC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  CHAIN_ID: int(1).optional(),
  SETTLEMENT_ADDRESS: address,
  /** The operator's private key (the contract's operator role). */
  OPERATOR_PRIVATE_KEY: z
    .string()
    .trim()
    .regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key')
    .transform((s) => s as Hex),
  /** JSON list of SettlementMarket: [{ marketId, baseToken, quoteToken, lotSize, tickSize }] (amounts as strings). */
  SETTLEMENT_MARKETS_FILE: z.string().min(1).optional(),
  SETTLEMENT_MARKETS: z.string().min(1).optional(),
  /**
   * Default fee rates in millionths of the quote amount for markets whose entry has no rates of its own, each
   * capped at the order's signed maxFeeRate. A negative maker rate (down to -TAKER_FEE_RATE) is a rebate.
   */
  MAKER_FEE_RATE: int(-MAX_FEE_RATE, MAX_FEE_RATE).default(0),
  TAKER_FEE_RATE: int(0, MAX_FEE_RATE).default(0),
  /** A batch closes at this many fills... */
  BATCH_MAX_FILLS: int(1, 5_000).default(500),
  /** ...or when the next waiting fill would take its modelled gas past this (<= the 16,777,216 per-transaction cap)... */
  BATCH_MAX_GAS: int(100_000, Number(MAX_TX_GAS)).default(15_000_000),
  /** ...or when its oldest fill has waited this long. */
  BATCH_MAX_AGE_MS: int(0).default(2_000),
  /** A fill whose signed orders have not arrived after this long raises an alert (it keeps waiting). */
  SIGNED_ORDER_WAIT_MS: int(0).default(60_000),
  CONFIRMATIONS: int(1, 1_000).default(1),
  REPLACE_AFTER_MS: int(100).default(15_000),
  FEE_BUMP_PERCENT: int(13, 1_000).default(25),
  PRIORITY_FEE_WEI: gwei.default(1_000_000_000n),
  MAX_FEE_PER_GAS_WEI: gwei.default(500_000_000_000n),
  POLL_INTERVAL_MS: int(5, 60_000).default(200),
  /** Block the contract was deployed in: where the search for a batch's BatchSettled log starts after a crash. */
  SETTLEMENT_DEPLOY_BLOCK: z
    .string({ error: 'required: the block the settlement contract was deployed in' })
    .trim()
    .regex(/^[1-9]\d{0,19}$/, 'must be the (positive) block number the contract was deployed in')
    .transform((s) => BigInt(s)),
  SETTLEMENT_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  SETTLEMENT_HTTP_PORT: int(0, 65_535).default(9201),
});

/** The settlement service's whole configuration, validated at boot. */
export interface SettlementConfig extends KafkaClientSettings, LogSettings {
  readonly groupId: string;
  readonly topics: {
    readonly marketEvents: string;
    readonly deadLetters: string;
    readonly signedOrders: string;
    readonly settlementStatus: string;
  };
  readonly partitions: number;
  readonly ensureTopics: boolean;
  readonly databaseUrl: string | undefined;
  /** Development only: run on embedded PGlite (in dataDir, or memory) when databaseUrl is unset. */
  readonly allowEphemeralDb: boolean;
  readonly dataDir: string | undefined;
  readonly rpcUrl: string;
  readonly chainId: number | undefined;
  readonly settlement: Address;
  readonly operatorKey: Hex;
  readonly markets: ReadonlyMap<number, SettlementMarket>;
  readonly fees: { readonly makerFeeRate: number; readonly takerFeeRate: number };
  readonly batch: { readonly maxFills: number; readonly maxGas: number; readonly maxAgeMs: number; readonly signedOrderWaitMs: number };
  readonly settler: {
    readonly confirmations: number;
    readonly replaceAfterMs: number;
    readonly feeBumpPercent: number;
    readonly priorityFeePerGas: bigint;
    readonly maxFeePerGasCap: bigint;
    readonly pollIntervalMs: number;
    readonly logsFromBlock: bigint;
  };
  readonly httpHost: string;
  /** 0 = any free port. */
  readonly httpPort: number;
}

const marketSchema = z.object({
  marketId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  baseToken: address,
  quoteToken: address,
  lotSize: z.union([z.string().regex(/^\d{1,39}$/), z.number().int().positive()]).transform((v) => BigInt(v)),
  tickSize: z.union([z.string().regex(/^\d{1,39}$/), z.number().int().positive()]).transform((v) => BigInt(v)),
  /** The market's own rates (RISK_MARKETS_FILE's entries carry them: the same file can serve both services). */
  makerFeeRate: z.number().int().min(-MAX_FEE_RATE).max(MAX_FEE_RATE).optional(),
  takerFeeRate: z.number().int().min(0).max(MAX_FEE_RATE).optional(),
});

/** Parses the settlement market list (JSON array, or `{ "markets": [...] }`); every problem names its path. */
export function parseSettlementMarkets(json: string, variable = 'SETTLEMENT_MARKETS'): Map<number, SettlementMarket> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ConfigError([`${variable}: not JSON (${err instanceof Error ? err.message : String(err)})`]);
  }
  const list = Array.isArray(raw) ? raw : (raw as { markets?: unknown } | null)?.markets;
  const parsed = z.array(marketSchema).min(1).safeParse(list);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${variable}[${i.path.map(String).join('.')}]: ${i.message}`));
  }
  const out = new Map<number, SettlementMarket>();
  const problems: string[] = [];
  for (const { makerFeeRate, takerFeeRate, ...units } of parsed.data) {
    // Rates only when given (an absent pair means "the default MAKER_/TAKER_FEE_RATE").
    const m: SettlementMarket = {
      ...units,
      ...(makerFeeRate === undefined ? {} : { makerFeeRate }),
      ...(takerFeeRate === undefined ? {} : { takerFeeRate }),
    };
    if (out.has(m.marketId)) problems.push(`${variable}: market ${m.marketId} is listed twice`);
    try {
      assertSettlementMarket(m);
    } catch (err) {
      problems.push(`${variable}: market ${m.marketId}: ${err instanceof Error ? err.message : String(err)}`);
    }
    out.set(m.marketId, m);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** The JSON form of a market list (what SETTLEMENT_MARKETS takes). */
export function formatSettlementMarkets(markets: Iterable<SettlementMarket>): string {
  return JSON.stringify(
    [...markets].map((m) => ({
      marketId: m.marketId,
      baseToken: m.baseToken,
      quoteToken: m.quoteToken,
      lotSize: m.lotSize.toString(),
      tickSize: m.tickSize.toString(),
      ...(m.makerFeeRate === undefined ? {} : { makerFeeRate: m.makerFeeRate }),
      ...(m.takerFeeRate === undefined ? {} : { takerFeeRate: m.takerFeeRate }),
    })),
  );
}

export function loadSettlementConfig(env: NodeJS.ProcessEnv = process.env): SettlementConfig {
  const e = loadConfig(schema, env);
  if (e.DATABASE_URL === undefined && !e.SETTLEMENT_ALLOW_EPHEMERAL_DB) {
    throw new ConfigError([
      'DATABASE_URL: required: settlement keeps unsettled fills and its broadcast journal in PostgreSQL (set SETTLEMENT_ALLOW_EPHEMERAL_DB=true to run on embedded PGlite in development)',
    ]);
  }
  let marketsJson: string;
  let variable: string;
  if (e.SETTLEMENT_MARKETS !== undefined) {
    marketsJson = e.SETTLEMENT_MARKETS;
    variable = 'SETTLEMENT_MARKETS';
  } else if (e.SETTLEMENT_MARKETS_FILE !== undefined) {
    variable = 'SETTLEMENT_MARKETS_FILE';
    try {
      marketsJson = readFileSync(e.SETTLEMENT_MARKETS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError([`SETTLEMENT_MARKETS_FILE: ${err instanceof Error ? err.message : String(err)}`]);
    }
  } else {
    throw new ConfigError(['SETTLEMENT_MARKETS: required (or SETTLEMENT_MARKETS_FILE): which tokens, lot and tick each market settles in']);
  }
  if (e.MAKER_FEE_RATE < -e.TAKER_FEE_RATE) {
    throw new ConfigError([
      `MAKER_FEE_RATE: ${e.MAKER_FEE_RATE} is a rebate above TAKER_FEE_RATE ${e.TAKER_FEE_RATE}: a maker rebate is paid out of the taker fee, so MAKER_FEE_RATE must be in -TAKER_FEE_RATE..${MAX_FEE_RATE}`,
    ]);
  }
  return {
    ...kafkaSettingsFrom(e),
    ...logSettingsFrom(e),
    groupId: e.SETTLEMENT_GROUP_ID,
    topics: {
      marketEvents: e.TOPIC_MARKET_EVENTS,
      deadLetters: e.TOPIC_DEAD_LETTERS,
      signedOrders: e.TOPIC_SIGNED_ORDERS,
      settlementStatus: e.TOPIC_SETTLEMENT_STATUS,
    },
    partitions: e.PARTITIONS,
    ensureTopics: e.ENSURE_TOPICS,
    databaseUrl: e.DATABASE_URL,
    allowEphemeralDb: e.SETTLEMENT_ALLOW_EPHEMERAL_DB,
    dataDir: e.SETTLEMENT_DATA_DIR,
    rpcUrl: e.RPC_URL,
    chainId: e.CHAIN_ID,
    settlement: e.SETTLEMENT_ADDRESS,
    operatorKey: e.OPERATOR_PRIVATE_KEY,
    markets: parseSettlementMarkets(marketsJson, variable),
    fees: { makerFeeRate: e.MAKER_FEE_RATE, takerFeeRate: e.TAKER_FEE_RATE },
    batch: {
      maxFills: e.BATCH_MAX_FILLS,
      maxGas: e.BATCH_MAX_GAS,
      maxAgeMs: e.BATCH_MAX_AGE_MS,
      signedOrderWaitMs: e.SIGNED_ORDER_WAIT_MS,
    },
    settler: {
      confirmations: e.CONFIRMATIONS,
      replaceAfterMs: e.REPLACE_AFTER_MS,
      feeBumpPercent: e.FEE_BUMP_PERCENT,
      priorityFeePerGas: e.PRIORITY_FEE_WEI,
      maxFeePerGasCap: e.MAX_FEE_PER_GAS_WEI,
      pollIntervalMs: e.POLL_INTERVAL_MS,
      logsFromBlock: e.SETTLEMENT_DEPLOY_BLOCK,
    },
    httpHost: e.SETTLEMENT_HTTP_HOST,
    httpPort: e.SETTLEMENT_HTTP_PORT,
  };
}
