import { z } from 'zod';
import { loadConfig, logEnvShape, optionalBrokerList } from '@parallax/observability';

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');

const schema = z.object({
  /** Set: attach to this Kafka cluster (engines run as child processes). Unset: the embedded log. */
  KAFKA_BROKERS: optionalBrokerList(),
  /** Matching engines to run: worker threads in embedded mode, processes in Kafka mode. */
  EXCHANGE_ENGINES: z.coerce.number().int().min(1).max(64).default(2),
  /** Partitions of the order, event and snapshot topics (engines share them). */
  PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(6),
  MARKETS: z.coerce.number().int().min(1).max(1_000_000).default(12),
  /** Start a local anvil node with the settlement contract and test tokens deployed. */
  EXCHANGE_LOCAL_CHAIN: flag('true'),
  /** Run the settlement service against the local chain (embedded PGlite unless DATABASE_URL is set). */
  EXCHANGE_SETTLEMENT: flag('true'),
  /** PostgreSQL of the settlement service; unset = embedded PGlite (EXCHANGE_DATA_DIR or memory). */
  DATABASE_URL: z.string().trim().min(1).optional(),
  /** PGlite data directory of the settlement service; unset = in memory (state is lost on exit). */
  EXCHANGE_DATA_DIR: z.string().min(1).optional(),
  SETTLEMENT_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9201),
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** First engine's HTTP (/metrics) port; engine i listens on base + i. 0 = any free port. */
  ENGINE_HTTP_PORT_BASE: z.coerce.number().int().min(0).max(65535).default(9101),
  /** LOG_LEVEL, LOG_FORMAT (also handed to the engines and the settlement service). */
  ...logEnvShape(),
});

export type ExchangeConfig = z.infer<typeof schema>;

export function loadExchangeConfig(env: NodeJS.ProcessEnv = process.env): ExchangeConfig {
  return loadConfig(schema, env);
}
