// The projector's configuration, validated at boot from the environment (a bad value stops start-up with one
// line naming the variable). The engine settings (ACCOUNT_SHARDS, PARTITIONS, RISK_MARKETS_FILE,
// EXPIRY_MARGIN_MS) and the topic names are the risk service's own variables: the replay is exact only with
// the shards' configuration, so a deployment gives both services the same values.
import { z } from 'zod';
import { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings } from '@parallax/microservice';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS, isValidTopicName } from '@parallax/contracts';
import { loadConfig, logEnvShape, logSettingsFrom, type LogSettings } from '@parallax/observability';
import { readRiskMarketsFile, riskEngineEnvShape } from '@parallax/risk-service';
import type { MarketProjectorConfig } from '../market/market-projector.service.js';
import type { ProjectorConfig } from '../projection/projector.service.js';

const count = (min: number) => z.coerce.number().int().min(min);
const topic = (fallback: string) => z.string().refine(isValidTopicName, 'a Kafka topic name').default(fallback);

const schema = z.object({
  ...kafkaEnvShape('parallax-projector'),
  PROJECTOR_GROUP_ID: z.string().min(1).max(200).default('parallax-projector'),
  ...riskEngineEnvShape,
  PROJECTOR_MAX_BATCH_MESSAGES: count(1).max(100_000).default(500),
  /** The market read model (orders, trades, candles): the engines' events and the shards' signed orders. */
  TOPIC_MARKET_EVENTS: topic(DEFAULT_TOPICS.marketEvents),
  TOPIC_SIGNED_ORDERS: topic(DEFAULT_SETTLEMENT_TOPICS.signedOrders),
  /** Its consumer group (default: PROJECTOR_GROUP_ID + "-markets"). */
  PROJECTOR_MARKETS_GROUP_ID: z.string().min(1).max(200).optional(),
  /** The risk engine's snapshot is stored with the balance rows every this many journal entries (restore replays the rest). */
  PROJECTOR_SNAPSHOT_EVERY_ENTRIES: count(1).max(10_000_000).default(1_000),
  /** PostgreSQL; unset = embedded PGlite (PROJECTOR_DATA_DIR, or memory). */
  DATABASE_URL: z.string().trim().min(1).optional(),
  PROJECTOR_DATA_DIR: z.string().min(1).optional(),
  PROJECTOR_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  PROJECTOR_HTTP_PORT: count(0).max(65_535).default(9105),
  ...logEnvShape(),
});

export interface ProjectorServiceConfig extends KafkaClientSettings, LogSettings {
  readonly projector: ProjectorConfig;
  /** The market read model's consumer (absent: balances only). */
  readonly marketEvents?: MarketProjectorConfig;
  /** undefined: embedded PGlite in dataDir (or memory). */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string | undefined;
  readonly http: { readonly host: string; readonly port: number };
}

export function loadProjectorConfig(env: NodeJS.ProcessEnv = process.env): ProjectorServiceConfig {
  const e = loadConfig(schema, env);
  const markets = readRiskMarketsFile(e.RISK_MARKETS_FILE, e.ACCOUNT_SHARDS);
  return {
    ...kafkaSettingsFrom(e),
    ...logSettingsFrom(e),
    databaseUrl: e.DATABASE_URL,
    dataDir: e.PROJECTOR_DATA_DIR,
    http: { host: e.PROJECTOR_HTTP_HOST, port: e.PROJECTOR_HTTP_PORT },
    projector: {
      groupId: e.PROJECTOR_GROUP_ID,
      inputs: { requests: e.TOPIC_REQUESTS, chainEvents: e.TOPIC_CHAIN_EVENTS, accountEvents: e.TOPIC_ACCOUNT_EVENTS },
      journal: e.TOPIC_RISK_JOURNAL,
      shards: e.ACCOUNT_SHARDS,
      marketPartitions: e.PARTITIONS,
      markets,
      expiryMarginTs: e.EXPIRY_MARGIN_MS,
      maxBatchMessages: e.PROJECTOR_MAX_BATCH_MESSAGES,
      snapshotEveryEntries: e.PROJECTOR_SNAPSHOT_EVERY_ENTRIES,
    },
    marketEvents: {
      groupId: e.PROJECTOR_MARKETS_GROUP_ID ?? `${e.PROJECTOR_GROUP_ID}-markets`,
      marketEvents: e.TOPIC_MARKET_EVENTS,
      signedOrders: e.TOPIC_SIGNED_ORDERS,
      partitions: e.PARTITIONS,
      maxBatchMessages: e.PROJECTOR_MAX_BATCH_MESSAGES,
    },
  };
}
