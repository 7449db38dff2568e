// What every engine of a scenario is started with, on the embedded log (worker threads) and on the broker
// (processes): the run's topics and the engine's environment apart from the transport's own settings.
import type { TopicNames } from '@parallax/contracts';
import type { Scenario } from './result.js';

/** The engines' topics of one run, named after it (runs never share a topic). */
export function runTopics(run: string): TopicNames {
  return {
    orders: `${run}.orders`,
    marketEvents: `${run}.market-events`,
    snapshots: `${run}.snapshots`,
    deadLetters: `${run}.dead-letters`,
  };
}

/** The engine's environment for `s` (the caller adds its transport's settings and the log level). */
export function engineEnv(run: string, topics: TopicNames, s: Scenario): Record<string, string> {
  return {
    ENGINE_GROUP_ID: `engine-${run}`,
    TOPIC_ORDERS: topics.orders,
    TOPIC_MARKET_EVENTS: topics.marketEvents,
    TOPIC_SNAPSHOTS: topics.snapshots,
    TOPIC_DEAD_LETTERS: topics.deadLetters,
    PARTITIONS: String(s.partitions),
    MARKETS: String(s.markets),
    MAX_BATCH_MESSAGES: String(s.engineBatch),
    // Frequent snapshots keep a take-over's replay short (production would tune this to its restore budget).
    SNAPSHOT_EVERY_MESSAGES: '5000',
    SNAPSHOT_EVERY_MS: '5000',
    ENGINE_HTTP_PORT: '0',
    ENSURE_TOPICS: 'false',
    // The measured path has no risk stage: no account events (the engine's default writes them for S shards).
    ACCOUNT_SHARDS: '0',
  };
}
