// The account shards' configuration, validated at boot from the environment (a bad value stops start-up
// with a message naming the variable).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_ACCOUNT_SHARDS, DEFAULT_RISK_RESULTS_TOPIC, DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS, DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS } from '@parallax/contracts';
import { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings } from '@parallax/microservice';
import { ConfigError, loadConfig, logEnvShape, logSettingsFrom, type LogSettings } from '@parallax/observability';
import { RiskEngine, type Address, type RiskMarket } from '@parallax/risk';
import type { RiskShardsConfig } from '../service/risk-shards.js';

const count = (min: number) => z.coerce.number().int().min(min);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
    .default(fallback);

/**
 * What the shards' engine and their input and journal topics are configured by: shared with apps/projector,
 * whose replay of the journal is exact only with the same values.
 */
export const riskEngineEnvShape = {
  /** Inputs, one writer each: requests (gateway), chain events (chain watcher), account events (engines). */
  TOPIC_REQUESTS: topic(DEFAULT_RISK_TOPICS.requests),
  TOPIC_CHAIN_EVENTS: topic(DEFAULT_RISK_TOPICS.chainEvents),
  TOPIC_ACCOUNT_EVENTS: topic(DEFAULT_RISK_TOPICS.accountEvents),
  /** The shards' own: the journal of the order inputs were applied in. */
  TOPIC_RISK_JOURNAL: topic(DEFAULT_RISK_STATE_TOPICS.journal),
  /** S: account shards = partitions of the input topic. Fixed for a deployment (ids are minted from it). */
  ACCOUNT_SHARDS: count(1).max(10_000).default(DEFAULT_ACCOUNT_SHARDS),
  /** P: partitions of the orders / signed-orders topics. */
  PARTITIONS: count(1).max(10_000).default(6),
  /** JSON list of markets: { marketId, baseToken, quoteToken, lotSize, tickSize, makerFeeRate, takerFeeRate } (sizes as decimal strings). */
  RISK_MARKETS_FILE: z.string().min(1),
  /** Orders stop trading this many ms before their signed expiry (the settlement latency). */
  EXPIRY_MARGIN_MS: count(0).default(0),
};

const schema = z.object({
  ...kafkaEnvShape('parallax-risk'),
  ...riskEngineEnvShape,
  RISK_GROUP_ID: z.string().min(1).max(200).default('parallax-risk'),
  RISK_INSTANCE_ID: z.string().min(1).default(`pid-${process.pid}`),
  /** The shards' compacted snapshots. */
  TOPIC_RISK_SNAPSHOTS: topic(DEFAULT_RISK_STATE_TOPICS.snapshots),
  TOPIC_ORDERS: topic(DEFAULT_TOPICS.orders),
  TOPIC_SIGNED_ORDERS: topic(DEFAULT_SETTLEMENT_TOPICS.signedOrders),
  TOPIC_DEAD_LETTERS: topic(DEFAULT_TOPICS.deadLetters),
  /** The answers to client requests (minted order ids, refusals), read by the gateways. */
  TOPIC_RISK_RESULTS: topic(DEFAULT_RISK_RESULTS_TOPIC),
  MAX_BATCH_MESSAGES: count(1).max(100_000).default(500),
  /** Input partitions in flight at once (a shard's own batches stay sequential). */
  RISK_CONCURRENT_PARTITIONS: count(1).max(1_000).default(12),
  /** Snapshot a shard after this many input messages, or when this much time passed since its last one. */
  SNAPSHOT_EVERY_MESSAGES: count(1).default(50_000),
  SNAPSHOT_EVERY_MS: count(1).default(60_000),
  /** Create the topics at boot when missing; false where kafka-setup created them (the risk principal may not). */
  ENSURE_TOPICS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Address and port of /metrics and /health (0 = any free port). */
  RISK_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  RISK_HTTP_PORT: count(0).max(65_535).default(9104),
  /** LOG_LEVEL, LOG_FORMAT. */
  ...logEnvShape(),
});

export interface RiskServiceConfig extends KafkaClientSettings, LogSettings {
  readonly instanceId: string;
  readonly shards: RiskShardsConfig;
  readonly http: { readonly host: string; readonly port: number };
}

const marketSchema = z.strictObject({
  marketId: z.int().min(1),
  baseToken: z.string().regex(/^0x[0-9a-f]{40}$/, 'must be a lower-case address'),
  quoteToken: z.string().regex(/^0x[0-9a-f]{40}$/, 'must be a lower-case address'),
  lotSize: z.string().regex(/^[1-9][0-9]{0,38}$/),
  tickSize: z.string().regex(/^[1-9][0-9]{0,38}$/),
  makerFeeRate: z.int(),
  takerFeeRate: z.int(),
});

/** Reads and validates RISK_MARKETS_FILE (a ConfigError naming it otherwise); shared with apps/projector. */
export function readRiskMarketsFile(file: string, shards: number): RiskMarket[] {
  try {
    const parsed = z.array(marketSchema).min(1).parse(JSON.parse(readFileSync(file, 'utf8')));
    const markets = parsed.map((m) => ({ ...m, baseToken: m.baseToken as Address, quoteToken: m.quoteToken as Address, lotSize: BigInt(m.lotSize), tickSize: BigInt(m.tickSize) }));
    // The engine validates units and fees (lot x tick a multiple of 1e18, rebates bounded...).
    new RiskEngine({ shard: 0, shards, markets });
    return markets;
  } catch (err) {
    throw new ConfigError([`RISK_MARKETS_FILE: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

export function loadRiskConfig(env: NodeJS.ProcessEnv = process.env): RiskServiceConfig {
  const e = loadConfig(schema, env);
  const markets = readRiskMarketsFile(e.RISK_MARKETS_FILE, e.ACCOUNT_SHARDS);
  return {
    ...kafkaSettingsFrom(e),
    ...logSettingsFrom(e),
    instanceId: e.RISK_INSTANCE_ID,
    http: { host: e.RISK_HTTP_HOST, port: e.RISK_HTTP_PORT },
    shards: {
      groupId: e.RISK_GROUP_ID,
      inputs: { requests: e.TOPIC_REQUESTS, chainEvents: e.TOPIC_CHAIN_EVENTS, accountEvents: e.TOPIC_ACCOUNT_EVENTS },
      state: { journal: e.TOPIC_RISK_JOURNAL, snapshots: e.TOPIC_RISK_SNAPSHOTS },
      ordersTopic: e.TOPIC_ORDERS,
      signedOrdersTopic: e.TOPIC_SIGNED_ORDERS,
      deadLettersTopic: e.TOPIC_DEAD_LETTERS,
      resultsTopic: e.TOPIC_RISK_RESULTS,
      shards: e.ACCOUNT_SHARDS,
      marketPartitions: e.PARTITIONS,
      markets,
      maxBatchMessages: e.MAX_BATCH_MESSAGES,
      expiryMarginTs: e.EXPIRY_MARGIN_MS,
      snapshotEveryMessages: e.SNAPSHOT_EVERY_MESSAGES,
      snapshotEveryMs: e.SNAPSHOT_EVERY_MS,
      concurrentPartitions: e.RISK_CONCURRENT_PARTITIONS,
      ensureTopics: e.ENSURE_TOPICS,
    },
  };
}
