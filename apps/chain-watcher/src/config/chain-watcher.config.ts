// The chain watcher's configuration, validated at boot from the environment (a bad value stops start-up with
// one line naming the variable, exit 78). Every variable is listed in docs/configuration.md.
import { z } from 'zod';
import { DEFAULT_RISK_TOPICS } from '@parallax/contracts';
import { kafkaEnvShape, kafkaSettingsFrom, type KafkaClientSettings } from '@parallax/microservice';
import { loadConfig, logEnvShape, logSettingsFrom, type LogSettings } from '@parallax/observability';
import { getAddress, isAddress, type Address } from 'viem';

/** Where the watcher keeps its committed position (one compacted partition, written in each transaction). */
export const DEFAULT_PROGRESS_TOPIC = 'parallax.chain-watcher-progress.v1';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const topic = (fallback: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
    .default(fallback);
const bool = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');

const schema = z.object({
  ...kafkaEnvShape('parallax-chain-watcher'),
  ...logEnvShape(),
  /** EVM JSON-RPC endpoint and the deployed ParallaxSettlement contract. */
  RPC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  CHAIN_ID: int(1).optional(),
  SETTLEMENT_ADDRESS: z
    .string()
    .trim()
    .refine((s) => isAddress(s, { strict: false }), 'must be a 0x-prefixed 20-byte address')
    .transform((s) => getAddress(s)),
  /** The first block watched when nothing was committed yet (the contract's deployment block). */
  SETTLEMENT_DEPLOY_BLOCK: z
    .string({ error: 'required: the block the settlement contract was deployed in' })
    .trim()
    // Never the genesis block (no contract there); the block before the first range is read for state.
    .regex(/^[1-9]\d{0,19}$/, 'must be the (positive) block number the contract was deployed in')
    .transform((s) => BigInt(s)),
  /** A block is final once this many blocks (itself included) are on the chain: head - n + 1 >= depth. */
  CHAIN_CONFIRMATIONS: int(1, 10_000).default(12),
  /** Blocks per eth_getLogs call (providers cap the range). */
  CHAIN_WATCHER_BLOCK_RANGE: int(1, 100_000).default(1_000),
  CHAIN_WATCHER_POLL_MS: int(10, 600_000).default(1_000),
  /** Chain events go here, partitioned by account shard (the risk shards' chain-events input). */
  TOPIC_CHAIN_EVENTS: topic(DEFAULT_RISK_TOPICS.chainEvents),
  TOPIC_CHAIN_WATCHER_PROGRESS: topic(DEFAULT_PROGRESS_TOPIC),
  /** S: account shards = partitions of the chain-events topic (the risk service's ACCOUNT_SHARDS). */
  ACCOUNT_SHARDS: int(1, 10_000).default(4),
  ENSURE_TOPICS: bool('true'),
  /** Compare the ledger's view of balances with the contract's after each committed range. */
  CHAIN_WATCHER_RECONCILE: bool('true'),
  CHAIN_WATCHER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CHAIN_WATCHER_HTTP_PORT: int(0, 65_535).default(9301),
});

export interface ChainWatcherConfig extends KafkaClientSettings, LogSettings {
  readonly rpcUrl: string;
  readonly chainId: number | undefined;
  readonly settlement: Address;
  readonly startBlock: bigint;
  readonly confirmations: number;
  readonly blockRange: number;
  readonly pollIntervalMs: number;
  readonly topics: { readonly chainEvents: string; readonly progress: string };
  readonly shards: number;
  readonly ensureTopics: boolean;
  readonly reconcile: boolean;
  readonly httpHost: string;
  readonly httpPort: number;
}

export function loadChainWatcherConfig(env: NodeJS.ProcessEnv = process.env): ChainWatcherConfig {
  const e = loadConfig(schema, env);
  return {
    ...kafkaSettingsFrom(e),
    ...logSettingsFrom(e),
    rpcUrl: e.RPC_URL,
    chainId: e.CHAIN_ID,
    settlement: e.SETTLEMENT_ADDRESS,
    startBlock: e.SETTLEMENT_DEPLOY_BLOCK,
    confirmations: e.CHAIN_CONFIRMATIONS,
    blockRange: e.CHAIN_WATCHER_BLOCK_RANGE,
    pollIntervalMs: e.CHAIN_WATCHER_POLL_MS,
    topics: { chainEvents: e.TOPIC_CHAIN_EVENTS, progress: e.TOPIC_CHAIN_WATCHER_PROGRESS },
    shards: e.ACCOUNT_SHARDS,
    ensureTopics: e.ENSURE_TOPICS,
    reconcile: e.CHAIN_WATCHER_RECONCILE,
    httpHost: e.CHAIN_WATCHER_HTTP_HOST,
    httpPort: e.CHAIN_WATCHER_HTTP_PORT,
  };
}
