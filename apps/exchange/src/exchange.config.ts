import { z } from 'zod';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS, type SettlementTopicNames, type TopicNames } from '@parallax/contracts';
import { loadConfig, logEnvShape, optionalBrokerList } from '@parallax/observability';

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');

const schema = z
  .object({
    /** Set: attach to this Kafka cluster (engines run as child processes). Unset: the embedded log. */
    KAFKA_BROKERS: optionalBrokerList(),
    /** Matching engines to run: worker threads in embedded mode, processes in Kafka mode. */
    EXCHANGE_ENGINES: z.coerce.number().int().min(1).max(64).default(2),
    /** Partitions of the order, event and snapshot topics (engines share them). */
    PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(6),
    /** Markets 1..N; the first ones get the demo names (ETH-USDC, BTC-USDC, ...; src/demo/demo-markets.ts). */
    MARKETS: z.coerce.number().int().min(1).max(1_000_000).default(3),
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
    /**
     * Prefix of every Kafka name this launch uses (topics, consumer groups, transactional ids, client ids), so
     * that a local run on a shared cluster never joins the deployment's consumer groups nor fences its engines.
     */
    EXCHANGE_NAMESPACE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_-]')
      .optional(),
    /**
     * What the embedded log keeps: 'consumed' (default) drops what every consumer group has committed past and
     * no engine restore replays (memory stays bounded); 'all' keeps everything (audits that read from 0).
     */
    EXCHANGE_LOG_RETENTION: z.enum(['consumed', 'all']).default('consumed'),
    /** Explicit opt-in for a launcher that IS the deployment: the default names on KAFKA_BROKERS. */
    EXCHANGE_USE_DEPLOYMENT_NAMES: flag('false'),
    /**
     * The demo: fund the market maker's and the taker's test accounts on the local chain, authorize the market
     * maker's trading key, and run the reference market maker on every market and the taker bot against it.
     * Unset: on whenever there is a local chain.
     */
    EXCHANGE_BOTS: z
      .enum(['true', 'false'])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true')),
    /** The taker bot's marketable orders per second (exponential gaps). 0 = a market maker alone. */
    EXCHANGE_TAKER_RATE: z.coerce.number().min(0).max(1_000).default(2),
    /** Levels the market maker quotes on each side of every market. */
    EXCHANGE_MM_LEVELS: z.coerce.number().int().min(1).max(25).default(5),
    /** LOG_LEVEL, LOG_FORMAT (also handed to the engines and the settlement service). */
    ...logEnvShape(),
  })
  .superRefine((c, ctx) => {
    // Without a namespace, a launch on a shared cluster would join the production groups and reopen their
    // transactional ids (fencing the running engines) and write into the production topics.
    if (c.KAFKA_BROKERS !== undefined && c.EXCHANGE_NAMESPACE === undefined && !c.EXCHANGE_USE_DEPLOYMENT_NAMES) {
      ctx.addIssue({
        code: 'custom',
        path: ['EXCHANGE_NAMESPACE'],
        message:
          'required with KAFKA_BROKERS: the default names are the deployment\'s (its consumer groups and transactional ids; ' +
          'joining them would fence its engines). Set EXCHANGE_NAMESPACE=<name> to run isolated, or ' +
          'EXCHANGE_USE_DEPLOYMENT_NAMES=true if this launcher is the deployment',
      });
    }
    if (c.EXCHANGE_BOTS === true && !c.EXCHANGE_LOCAL_CHAIN) {
      ctx.addIssue({ code: 'custom', path: ['EXCHANGE_BOTS'], message: 'the bots trade test tokens of the local chain: needs EXCHANGE_LOCAL_CHAIN=true' });
    }
    if (c.EXCHANGE_NAMESPACE !== undefined && c.EXCHANGE_USE_DEPLOYMENT_NAMES) {
      ctx.addIssue({ code: 'custom', path: ['EXCHANGE_USE_DEPLOYMENT_NAMES'], message: 'contradicts EXCHANGE_NAMESPACE: set one of them' });
    }
  });

export type ExchangeConfig = z.infer<typeof schema>;

/** Whether this launch runs the demo bots (EXCHANGE_BOTS, default: when there is a local chain). */
export function botsEnabled(config: Pick<ExchangeConfig, 'EXCHANGE_BOTS' | 'EXCHANGE_LOCAL_CHAIN'>): boolean {
  return config.EXCHANGE_BOTS ?? config.EXCHANGE_LOCAL_CHAIN;
}

export function loadExchangeConfig(env: NodeJS.ProcessEnv = process.env): ExchangeConfig {
  return loadConfig(schema, env);
}

/** The Kafka names of one launch (the transactional ids derive from the group ids). */
export interface ExchangeNames {
  readonly topics: TopicNames;
  readonly settlementTopics: SettlementTopicNames;
  readonly engineGroupId: string;
  readonly settlementGroupId: string;
  readonly engineClientId: string;
  readonly settlementClientId: string;
  readonly gatewayClientId: string;
}

/** The default names, or all of them under EXCHANGE_NAMESPACE (`<namespace>.<default name>`). */
export function exchangeNames(config: Pick<ExchangeConfig, 'EXCHANGE_NAMESPACE'>): ExchangeNames {
  const ns = config.EXCHANGE_NAMESPACE;
  const name = (n: string): string => (ns === undefined ? n : `${ns}.${n}`);
  return {
    topics: {
      orders: name(DEFAULT_TOPICS.orders),
      marketEvents: name(DEFAULT_TOPICS.marketEvents),
      snapshots: name(DEFAULT_TOPICS.snapshots),
      deadLetters: name(DEFAULT_TOPICS.deadLetters),
    },
    settlementTopics: {
      signedOrders: name(DEFAULT_SETTLEMENT_TOPICS.signedOrders),
      settlementStatus: name(DEFAULT_SETTLEMENT_TOPICS.settlementStatus),
    },
    engineGroupId: name('parallax-matching-engine'),
    settlementGroupId: name('parallax-settlement'),
    engineClientId: name('parallax-matching-engine'),
    settlementClientId: name('parallax-settlement'),
    gatewayClientId: name('parallax-gateway'),
  };
}
