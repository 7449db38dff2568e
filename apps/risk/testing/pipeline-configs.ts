// The account shards and a matching engine of one test run on a real log, configured as the funds-path tests run
// them: every topic and group named after the run (runs on one broker never meet), small batches and frequent
// shard snapshots (restores replay a journal), the engine's own snapshots out of the way.
import { defaultMarkets, MarketCatalogue } from '@parallax/contracts';
import type { MatchingEngineConfig } from '@parallax/matching-engine';
import type { RiskMarket } from '@parallax/risk';
import type { RiskShardsConfig } from '../service/risk-shards.js';

export interface TestPipelineOptions {
  readonly shards: number;
  /** P, the partition count of the orders and market-events topics. */
  readonly marketPartitions: number;
  /** The shards' markets; the engine serves the default catalogue's first markets.length markets. */
  readonly markets: readonly RiskMarket[];
}

export interface TestPipelineConfigs {
  readonly risk: RiskShardsConfig;
  readonly engine: MatchingEngineConfig;
}

export function testPipelineConfigs(run: string, o: TestPipelineOptions): TestPipelineConfigs {
  const risk: RiskShardsConfig = {
    groupId: `${run}-risk`,
    inputs: { requests: `${run}.requests`, chainEvents: `${run}.chain-events`, accountEvents: `${run}.account-events` },
    state: { journal: `${run}.risk-journal`, snapshots: `${run}.risk-snapshots` },
    snapshotEveryMessages: 40,
    ordersTopic: `${run}.orders`,
    signedOrdersTopic: `${run}.signed-orders`,
    deadLettersTopic: `${run}.dead-letters`,
    shards: o.shards,
    marketPartitions: o.marketPartitions,
    markets: o.markets,
    maxBatchMessages: 50,
  };
  const engine: MatchingEngineConfig = {
    kafkaBrokers: undefined,
    kafkaClientId: run,
    kafkaConsumer: {},
    groupId: `${run}-engine`,
    instanceId: run,
    topics: { orders: risk.ordersTopic, marketEvents: `${run}.market-events`, snapshots: `${run}.snapshots`, deadLetters: risk.deadLettersTopic },
    partitions: o.marketPartitions,
    catalogue: new MarketCatalogue(defaultMarkets(o.markets.length)),
    snapshotEveryMessages: 1_000_000,
    snapshotEveryMs: 3_600_000,
    maxBatchMessages: 50,
    concurrentPartitions: 2,
    ensureTopics: true,
    httpHost: '127.0.0.1',
    httpPort: 0,
    ordersRetentionMs: 3_600_000_000,
    logLevel: 'info',
    logFormat: 'json',
    accountEvents: { topic: risk.inputs.accountEvents, shards: o.shards },
  };
  return { risk, engine };
}
