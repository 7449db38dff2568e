// The projector's configuration, validated at boot from the environment (a bad value stops start-up with one
// line naming the variable). The engine settings (ACCOUNT_SHARDS, PARTITIONS, RISK_MARKETS_FILE,
// EXPIRY_MARGIN_MS) and the topic names are the risk service's own variables: the replay is exact only with
// the shards' configuration, so a deployment gives both services the same values.
import { z } from 'zod';
import { DEFAULT_ACCOUNT_SHARDS, DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS } from '@parallax/contracts';
import { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings } from '@parallax/microservice';
import { loadConfig, logEnvShape, logSettingsFrom, type LogSettings } from '@parallax/observability';
import { readRiskMarketsFile } from '@parallax/risk-service';
import type { ProjectorConfig } from '../projection/projector.service.js';

const count = (min: number) => z.coerce.number().int().min(min);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
    .default(fallback);

const schema = z.object({
  ...kafkaEnvShape('parallax-projector'),
  PROJECTOR_GROUP_ID: z.string().min(1).max(200).default('parallax-projector'),
  TOPIC_REQUESTS: topic(DEFAULT_RISK_TOPICS.requests),
  TOPIC_CHAIN_EVENTS: topic(DEFAULT_RISK_TOPICS.chainEvents),
  TOPIC_ACCOUNT_EVENTS: topic(DEFAULT_RISK_TOPICS.accountEvents),
  TOPIC_RISK_JOURNAL: topic(DEFAULT_RISK_STATE_TOPICS.journal),
  ACCOUNT_SHARDS: count(1).max(10_000).default(DEFAULT_ACCOUNT_SHARDS),
  PARTITIONS: count(1).max(10_000).default(6),
  RISK_MARKETS_FILE: z.string().min(1),
  EXPIRY_MARGIN_MS: count(0).default(0),
  PROJECTOR_MAX_BATCH_MESSAGES: count(1).max(100_000).default(500),
  /** PostgreSQL; unset = embedded PGlite (PROJECTOR_DATA_DIR, or memory). */
  DATABASE_URL: z.string().trim().min(1).optional(),
  PROJECTOR_DATA_DIR: z.string().min(1).optional(),
  PROJECTOR_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  PROJECTOR_HTTP_PORT: count(0).max(65_535).default(9105),
  ...logEnvShape(),
});

export interface ProjectorServiceConfig extends KafkaClientSettings, LogSettings {
  readonly projector: ProjectorConfig;
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
    },
  };
}
