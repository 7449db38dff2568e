// A gateway process as deployed (apps/gateway/src/main.ts; docker-compose, k8s): its configuration from the
// environment and what it opens from it. The catalogue of MARKETS default markets and the settlement deployment
// orders are signed for, named by the same variables the settlement service reads (CHAIN_ID, SETTLEMENT_ADDRESS,
// and SETTLEMENT_MARKETS or SETTLEMENT_MARKETS_FILE: a JSON list [{ marketId, baseToken, quoteToken, lotSize,
// tickSize }] with sizes as decimal strings of base units, plus optional baseDecimals / quoteDecimals, the
// tokens' ERC-20 decimals that GET /v1/markets shows), so one config map or deploy hand-off serves both.
// With KAFKA_BROKERS it joins the cluster; without, it runs on a private embedded log (as the engine does).
// With DATABASE_URL it reads the projector's read models (database.ts), as the one-machine launcher hands them
// over in process.
import { readFileSync } from 'node:fs';
import { assertSettlementMarket, settlementDomain, type SettlementMarket } from '@parallax/chain';
import { DEFAULT_RISK_RESULTS_TOPIC, DEFAULT_RISK_TOPICS, DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS, defaultMarkets, MarketCatalogue, settlementTopicSpecs, topicSpecs } from '@parallax/contracts';
import { ConfigError, loadConfig, optionalBrokerList, type Logger } from '@parallax/observability';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '@parallax/transport';
import { z } from 'zod';
import { startGateway, type StartedGateway } from './bootstrap.js';
import { openGatewayDatabase, type GatewayDatabase } from './database.js';
import type { GatewayConfig } from './gateway.config.js';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x address');
const units = z.union([z.string().regex(/^[1-9][0-9]{0,38}$/, 'must be a positive integer string'), z.int().positive()]);
const decimals = z.int().min(0).max(77).optional();
const marketList = z.array(z.object({ marketId: z.int().min(1), baseToken: address, quoteToken: address, lotSize: units, tickSize: units, baseDecimals: decimals, quoteDecimals: decimals })).min(1);

const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name');

const envSchema = z.object({
  KAFKA_BROKERS: optionalBrokerList(),
  MARKETS: z.coerce.number().int().min(1).max(1_000_000).default(12),
  PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(6),
  /** S: the risk shards' account shard count (partitions of the requests topic). */
  ACCOUNT_SHARDS: z.coerce.number().int().min(1).max(10_000).default(4),
  TOPIC_REQUESTS: topicName.default(DEFAULT_RISK_TOPICS.requests),
  TOPIC_RISK_RESULTS: topicName.default(DEFAULT_RISK_RESULTS_TOPIC),
  TOPIC_CHAIN_EVENTS: topicName.default(DEFAULT_RISK_TOPICS.chainEvents),
  /** The engines' and the settlement service's topics (a namespaced launch prefixes them). */
  TOPIC_MARKET_EVENTS: topicName.default(DEFAULT_TOPICS.marketEvents),
  TOPIC_SIGNED_ORDERS: topicName.default(DEFAULT_SETTLEMENT_TOPICS.signedOrders),
  TOPIC_SETTLEMENT_STATUS: topicName.default(DEFAULT_SETTLEMENT_TOPICS.settlementStatus),
  CHAIN_ID: z.coerce.number().int().min(1),
  SETTLEMENT_ADDRESS: address,
  SETTLEMENT_MARKETS: z.string().min(1).optional(),
  SETTLEMENT_MARKETS_FILE: z.string().min(1).optional(),
  /**
   * The read models' PostgreSQL (the projector's rows, settlement's fill status), opened read-only: history,
   * balances, transfers and orders this instance never saw come from there. Unset: this gateway's memory only,
   * and balances / transfers answer UNAVAILABLE.
   */
  DATABASE_URL: z.string().trim().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgresql:// URL').optional(),
  /** Negative: a maker rebate, at most the taker fee (as the settlement service and the risk shards accept). */
  MAKER_FEE_RATE: z.coerce.number().int().min(-100_000).max(100_000).default(0),
  TAKER_FEE_RATE: z.coerce.number().int().min(0).max(100_000).default(0),
}).refine((e) => e.MAKER_FEE_RATE >= -e.TAKER_FEE_RATE, { path: ['MAKER_FEE_RATE'], message: 'a maker rebate (negative MAKER_FEE_RATE) cannot exceed TAKER_FEE_RATE' });

/** The settlement markets, or a ConfigError naming the variable they came from. */
function settlementMarketsOf(e: z.infer<typeof envSchema>): { markets: SettlementMarket[]; tokenDecimals: Map<string, number> } {
  const variable = e.SETTLEMENT_MARKETS !== undefined ? 'SETTLEMENT_MARKETS' : 'SETTLEMENT_MARKETS_FILE';
  try {
    let json: string;
    if (e.SETTLEMENT_MARKETS !== undefined) json = e.SETTLEMENT_MARKETS;
    else if (e.SETTLEMENT_MARKETS_FILE !== undefined) json = readFileSync(e.SETTLEMENT_MARKETS_FILE, 'utf8');
    else throw new Error('one of SETTLEMENT_MARKETS or SETTLEMENT_MARKETS_FILE is required');
    // Both forms settlement takes: a list, or { "markets": [...] }.
    const parsed: unknown = JSON.parse(json);
    const list: unknown = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'markets' in parsed ? parsed.markets : parsed;
    const parsedMarkets = marketList.parse(list);
    const tokenDecimals = new Map<string, number>();
    for (const m of parsedMarkets) {
      if (m.baseDecimals !== undefined) tokenDecimals.set(m.baseToken.toLowerCase(), m.baseDecimals);
      if (m.quoteDecimals !== undefined) tokenDecimals.set(m.quoteToken.toLowerCase(), m.quoteDecimals);
    }
    const markets = parsedMarkets.map((m) => ({
      marketId: m.marketId,
      baseToken: m.baseToken as `0x${string}`,
      quoteToken: m.quoteToken as `0x${string}`,
      lotSize: BigInt(m.lotSize),
      tickSize: BigInt(m.tickSize),
    }));
    markets.forEach(assertSettlementMarket);
    return { markets, tokenDecimals };
  } catch (err) {
    throw new ConfigError([`${variable}: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

export interface StandaloneConfig {
  readonly env: z.infer<typeof envSchema>;
  readonly settlementMarkets: SettlementMarket[];
  readonly tokenDecimals: Map<string, number>;
}

/** The deployment's variables, or a ConfigError naming each bad one. */
export function loadStandaloneConfig(env: NodeJS.ProcessEnv = process.env): StandaloneConfig {
  const e = loadConfig(envSchema, env);
  const { markets, tokenDecimals } = settlementMarketsOf(e);
  return { env: e, settlementMarkets: markets, tokenDecimals };
}

export interface StandaloneGateway extends StartedGateway {
  readonly transport: Transport;
  /** Whether it reads the read models from PostgreSQL (DATABASE_URL). */
  readonly database: boolean;
  /** Closes the app, then its log client and database pool. */
  close(): Promise<void>;
}

/** Opens the log (Kafka or embedded) and the read models' database if configured, and starts the gateway. */
export async function startStandaloneGateway(
  config: GatewayConfig,
  s: StandaloneConfig,
  options: { logger?: Logger; shutdownHooks?: boolean } = {},
): Promise<StandaloneGateway> {
  const e = s.env;
  const topics = { requests: e.TOPIC_REQUESTS, riskResults: e.TOPIC_RISK_RESULTS, chainEvents: e.TOPIC_CHAIN_EVENTS, marketEvents: e.TOPIC_MARKET_EVENTS, signedOrders: e.TOPIC_SIGNED_ORDERS, settlementStatus: e.TOPIC_SETTLEMENT_STATUS };
  let transport: Transport;
  if (e.KAFKA_BROKERS === undefined) {
    const embedded = createEmbeddedTransport();
    await embedded.ensureTopics([
      ...topicSpecs({ ...DEFAULT_TOPICS, marketEvents: e.TOPIC_MARKET_EVENTS }, e.PARTITIONS),
      ...settlementTopicSpecs({ ...DEFAULT_SETTLEMENT_TOPICS, signedOrders: e.TOPIC_SIGNED_ORDERS, settlementStatus: e.TOPIC_SETTLEMENT_STATUS }, e.PARTITIONS),
      ...[...new Set([topics.requests, topics.riskResults, topics.chainEvents])].map((name) => ({ name, partitions: e.ACCOUNT_SHARDS })),
    ]);
    transport = embedded;
  } else {
    transport = createKafkaTransport({ brokers: e.KAFKA_BROKERS, clientId: `parallax-gateway-${config.GATEWAY_INSTANCE}` });
  }
  const db: GatewayDatabase | undefined = e.DATABASE_URL === undefined ? undefined : openGatewayDatabase(e.DATABASE_URL);
  const release = async (): Promise<void> => {
    try {
      await transport.close();
    } finally {
      await db?.close();
    }
  };
  let started: StartedGateway;
  try {
    started = await startGateway(
      {
        config,
        transport,
        topics,
        accountShards: e.ACCOUNT_SHARDS,
        catalogue: new MarketCatalogue(defaultMarkets(e.MARKETS)),
        domain: settlementDomain(e.CHAIN_ID, e.SETTLEMENT_ADDRESS as `0x${string}`),
        settlementMarkets: s.settlementMarkets,
        tokenDecimals: s.tokenDecimals,
        fees: { makerFeeRate: e.MAKER_FEE_RATE, takerFeeRate: e.TAKER_FEE_RATE },
        ...(db === undefined ? {} : { accountReadModel: db.accountReadModel, historyReadModel: db.historyReadModel, fillSettlement: db.fillSettlement, readiness: [db.health] }),
      },
      options,
    );
  } catch (err) {
    await release();
    throw err;
  }
  const closeApp = started.app.close.bind(started.app);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= closeApp().finally(release));
  // Nest's shutdown hooks (SIGTERM) call the app's close: the pool and the log client go with it.
  started.app.close = close;
  return { ...started, transport, database: db !== undefined, close };
}
