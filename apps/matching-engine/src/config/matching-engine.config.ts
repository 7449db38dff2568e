import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_ACCOUNT_SHARDS, DEFAULT_ORDERS_RETENTION_MS, DEFAULT_RISK_TOPICS, DEFAULT_TOPICS, defaultMarkets, MarketCatalogue, parseMarketCatalogue, type TopicNames } from '@parallax/contracts';
import { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings } from '@parallax/microservice';
import { ConfigError, loadConfig, logEnvShape, logSettingsFrom, type LogSettings } from '@parallax/observability';

const count = (min: number) => z.coerce.number().int().min(min);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
    .default(fallback);

const schema = z
  .object({
    /** KAFKA_BROKERS (unset = the embedded log, single-machine mode), client id, group timing. */
    ...kafkaEnvShape('parallax-matching-engine'),
    /** LOG_LEVEL, LOG_FORMAT. */
    ...logEnvShape(),
    ENGINE_GROUP_ID: z.string().min(1).max(200).default('parallax-matching-engine'),
    /** Shown in logs to tell instances apart. */
    ENGINE_INSTANCE_ID: z.string().min(1).default(`pid-${process.pid}`),
    TOPIC_ORDERS: topic(DEFAULT_TOPICS.orders),
    TOPIC_MARKET_EVENTS: topic(DEFAULT_TOPICS.marketEvents),
    TOPIC_SNAPSHOTS: topic(DEFAULT_TOPICS.snapshots),
    TOPIC_DEAD_LETTERS: topic(DEFAULT_TOPICS.deadLetters),
    TOPIC_ACCOUNT_EVENTS: topic(DEFAULT_RISK_TOPICS.accountEvents),
    /** Account shards (apps/risk partitions, the risk service's default S); 0 = no risk stage, no account events. */
    ACCOUNT_SHARDS: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_ACCOUNT_SHARDS),
    /** Partition count of orders, market events and snapshots (equal by contract). */
    PARTITIONS: count(1).max(10_000).default(6),
    /** Number of markets of the default catalogue (ignored when MARKET_CATALOGUE_FILE is set). */
    MARKETS: count(1).max(1_000_000).default(12),
    /** JSON market catalogue (see @parallax/contracts parseMarketCatalogue). */
    MARKET_CATALOGUE_FILE: z.string().min(1).optional(),
    /** Snapshot a partition after this many input messages... */
    SNAPSHOT_EVERY_MESSAGES: count(1).default(50_000),
    /** ...or when this much wall-clock time passed since its last snapshot (checked on each batch). */
    SNAPSHOT_EVERY_MS: count(1).default(60_000),
    /** Upper bound on input messages per batch (one transaction each). */
    MAX_BATCH_MESSAGES: count(1).max(100_000).default(500),
    /** Owned partitions whose batches may be matched and committed at the same time (see ConsumerOptions). */
    ENGINE_CONCURRENT_PARTITIONS: count(1).max(1_000).default(8),
    /** Create the topics at boot if missing. */
    ENSURE_TOPICS: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    ENGINE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    ENGINE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9101),
    /** retention.ms of the orders topic when this engine creates it (ENSURE_TOPICS). */
    ORDERS_RETENTION_MS: count(1).default(DEFAULT_ORDERS_RETENTION_MS),
  })
  .refine((e) => e.ORDERS_RETENTION_MS >= 10 * e.SNAPSHOT_EVERY_MS, {
    // The replay input of a restore starts at the last snapshot: it must outlive many snapshot intervals.
    path: ['ORDERS_RETENTION_MS'],
    message: 'must be at least 10 x SNAPSHOT_EVERY_MS (a restore replays the orders input since the last snapshot)',
  });

export type MatchingEngineEnv = z.infer<typeof schema>;

/** The engine's whole configuration, validated at boot. */
export interface MatchingEngineConfig extends KafkaClientSettings, LogSettings {
  readonly groupId: string;
  readonly instanceId: string;
  readonly topics: TopicNames;
  readonly partitions: number;
  readonly catalogue: MarketCatalogue;
  readonly snapshotEveryMessages: number;
  readonly snapshotEveryMs: number;
  readonly maxBatchMessages: number;
  readonly concurrentPartitions: number;
  readonly ensureTopics: boolean;
  readonly httpHost: string;
  /** 0 = any free port. */
  readonly httpPort: number;
  /** retention.ms given to the orders topic when the engine creates it. */
  readonly ordersRetentionMs: number;
  /**
   * With account shards (apps/risk): the topic and shard count the account events go to, in the same
   * transaction as the market events. Absent: no account events.
   */
  readonly accountEvents?: { readonly topic: string; readonly shards: number };
}

export function loadMatchingEngineConfig(env: NodeJS.ProcessEnv = process.env): MatchingEngineConfig {
  const e = loadConfig(schema, env);
  let catalogue: MarketCatalogue;
  if (e.MARKET_CATALOGUE_FILE === undefined) {
    catalogue = new MarketCatalogue(defaultMarkets(e.MARKETS));
  } else {
    try {
      catalogue = parseMarketCatalogue(readFileSync(e.MARKET_CATALOGUE_FILE, 'utf8'));
    } catch (err) {
      throw new ConfigError([`MARKET_CATALOGUE_FILE: ${err instanceof Error ? err.message : String(err)}`]);
    }
  }
  return {
    ...kafkaSettingsFrom(e),
    ...logSettingsFrom(e),
    groupId: e.ENGINE_GROUP_ID,
    instanceId: e.ENGINE_INSTANCE_ID,
    topics: {
      orders: e.TOPIC_ORDERS,
      marketEvents: e.TOPIC_MARKET_EVENTS,
      snapshots: e.TOPIC_SNAPSHOTS,
      deadLetters: e.TOPIC_DEAD_LETTERS,
    },
    partitions: e.PARTITIONS,
    catalogue,
    snapshotEveryMessages: e.SNAPSHOT_EVERY_MESSAGES,
    snapshotEveryMs: e.SNAPSHOT_EVERY_MS,
    maxBatchMessages: e.MAX_BATCH_MESSAGES,
    concurrentPartitions: e.ENGINE_CONCURRENT_PARTITIONS,
    ensureTopics: e.ENSURE_TOPICS,
    httpHost: e.ENGINE_HTTP_HOST,
    httpPort: e.ENGINE_HTTP_PORT,
    ordersRetentionMs: e.ORDERS_RETENTION_MS,
    ...(e.ACCOUNT_SHARDS > 0 ? { accountEvents: { topic: e.TOPIC_ACCOUNT_EVENTS, shards: e.ACCOUNT_SHARDS } } : {}),
  };
}
