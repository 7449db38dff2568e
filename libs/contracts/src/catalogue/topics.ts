// Topic names, partitioning and keys of the matching pipeline.
import type { TopicSpec } from '@parallax/transport';
import { ContractError } from '../errors.js';
import { invalidField } from '../wire.js';

export interface TopicNames {
  /** CommandBatch messages, key = marketKey, partition = partitionForMarket. */
  readonly orders: string;
  /** EventBatch messages, key = marketKey, partition = partitionForMarket. */
  readonly marketEvents: string;
  /** MarketSnapshot messages (compacted), key = marketKey, partition = partitionForMarket. */
  readonly snapshots: string;
  /** DeadLetter messages, key = deadLetterKey(source topic, partition). */
  readonly deadLetters: string;
}

export const DEFAULT_TOPICS: TopicNames = Object.freeze({
  orders: 'parallax.orders.v1',
  marketEvents: 'parallax.market-events.v1',
  snapshots: 'parallax.engine-snapshots.v1',
  deadLetters: 'parallax.dead-letters.v1',
});

/** Kafka's legal topic names. */
const TOPIC_NAME_RE = /^[A-Za-z0-9._-]{1,249}$/;
export const MAX_PARTITIONS = 10_000;

export function isValidTopicName(name: string): boolean {
  return typeof name === 'string' && TOPIC_NAME_RE.test(name) && name !== '.' && name !== '..';
}

/**
 * Retention of the orders topic unless configured otherwise: 7 days. A matching engine restores from its
 * latest snapshots plus a replay of the orders input after them, so that input must outlive the oldest
 * snapshot a restore may need: far longer than the snapshot interval (a minute by default), including time a
 * partition may go without a successful snapshot or without an engine. If retention deletes it anyway, the
 * engine refuses to restore (REPLAY_INPUT_DELETED) instead of rebuilding from part of the log.
 */
export const DEFAULT_ORDERS_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * The pipeline's topics. orders, marketEvents and snapshots share one partition count, so a market's
 * messages sit in the same partition number in all three (an engine owning orders partition p owns the
 * events and snapshots of partition p). Dead letters use the same count. The orders topic is created with
 * time-only retention `ordersRetentionMs` (default DEFAULT_ORDERS_RETENTION_MS).
 */
export function topicSpecs(names: TopicNames, partitions: number, options: { readonly ordersRetentionMs?: number } = {}): TopicSpec[] {
  checkPartitions(partitions);
  const list = [names.orders, names.marketEvents, names.snapshots, names.deadLetters];
  for (const n of list) if (!isValidTopicName(n)) invalidField('topic name', n, 'a Kafka topic name ([A-Za-z0-9._-], 1..249 chars)');
  if (new Set(list).size !== list.length) throw new ContractError('INVALID_FIELD', `topic names must be distinct: ${list.join(', ')}`);
  return [
    { name: names.orders, partitions, retentionMs: options.ordersRetentionMs ?? DEFAULT_ORDERS_RETENTION_MS },
    { name: names.marketEvents, partitions },
    { name: names.snapshots, partitions, compacted: true },
    { name: names.deadLetters, partitions },
  ];
}

/**
 * Topics of the settlement pipeline, kept apart from TopicNames so the matching engine's topic set is
 * unchanged.
 */
export interface SettlementTopicNames {
  /** SignedOrderBatch messages, key = marketKey, partition = partitionForMarket (placed like `orders`). */
  readonly signedOrders: string;
  /** SettlementStatus messages, one partition, key = SETTLEMENT_STATUS_KEY. */
  readonly settlementStatus: string;
}

export const DEFAULT_SETTLEMENT_TOPICS: SettlementTopicNames = Object.freeze({
  signedOrders: 'parallax.signed-orders.v1',
  settlementStatus: 'parallax.settlement-status.v1',
});

/** Key of every settlement status message (one partition: the events are totally ordered). */
export const SETTLEMENT_STATUS_KEY = 'settlement';

/**
 * signedOrders gets the orders topic's partition count P (pass the same P), so a market's signed orders sit
 * in partition partitionForMarket(marketId, P) as its commands do. settlementStatus has one partition.
 */
export function settlementTopicSpecs(names: SettlementTopicNames, partitions: number): TopicSpec[] {
  checkPartitions(partitions);
  const list = [names.signedOrders, names.settlementStatus];
  for (const n of list) if (!isValidTopicName(n)) invalidField('topic name', n, 'a Kafka topic name ([A-Za-z0-9._-], 1..249 chars)');
  if (names.signedOrders === names.settlementStatus) throw new ContractError('INVALID_FIELD', `topic names must be distinct: ${list.join(', ')}`);
  return [
    { name: names.signedOrders, partitions },
    { name: names.settlementStatus, partitions: 1 },
  ];
}

/**
 * Topics of the account shards (apps/risk), all with the account shard count S as partition count: an
 * account's requests, chain events and account events sit in partition shardForAccount(account, S) =
 * shardForId(accountId, S) of each, so one consumer owns all three for its accounts.
 */
export interface RiskTopicNames {
  /** RiskRequestBatch messages (orders and cancels from the gateway), key = account. */
  readonly requests: string;
  /** AccountEventBatch messages from the matching engines, key = account id. */
  readonly accountEvents: string;
  /** ChainEventBatch messages from the chain watcher, key = account. */
  readonly chainEvents: string;
}

export const DEFAULT_RISK_TOPICS: RiskTopicNames = Object.freeze({
  requests: 'parallax.requests.v1',
  accountEvents: 'parallax.account-events.v1',
  chainEvents: 'parallax.chain-events.v1',
});

/**
 * S, the account shard count, unless configured: the risk service's partitions of the three input topics and
 * the matching engine's ACCOUNT_SHARDS (the partitions it writes account events to) both default to it, so
 * the two agree out of the box. Fixed for a deployment: account and order ids are minted from it.
 */
export const DEFAULT_ACCOUNT_SHARDS = 4;

/** RiskResultBatch messages: the account shards' answers to client requests (S partitions, key = account). */
export const DEFAULT_RISK_RESULTS_TOPIC = 'parallax.risk-results.v1';

/**
 * The risk service's own topics (S partitions each, written only by the risk principal):
 * - journal: per shard, the order in which the shard consumed its three input partitions (one record per
 *   consumed batch, written in the batch's transaction); a restore replays the inputs in that order, so the
 *   interleaving of three independently written topics is reproduced exactly.
 * - snapshots (compacted): per shard, its engine state with the journal and input offsets it reflects.
 */
export interface RiskStateTopicNames {
  readonly journal: string;
  readonly snapshots: string;
}

export const DEFAULT_RISK_STATE_TOPICS: RiskStateTopicNames = Object.freeze({
  journal: 'parallax.risk-journal.v1',
  snapshots: 'parallax.risk-snapshots.v1',
});

export function riskStateTopicSpecs(names: RiskStateTopicNames, shards: number): TopicSpec[] {
  checkPartitions(shards);
  const list = [names.journal, names.snapshots];
  for (const n of list) if (!isValidTopicName(n)) invalidField('topic name', n, 'a Kafka topic name ([A-Za-z0-9._-], 1..249 chars)');
  if (names.journal === names.snapshots) throw new ContractError('INVALID_FIELD', `topic names must be distinct: ${list.join(', ')}`);
  // The journal must outlive the snapshot a restore starts from (the same reasoning as the orders input).
  return [
    { name: names.journal, partitions: shards, retentionMs: DEFAULT_ORDERS_RETENTION_MS },
    { name: names.snapshots, partitions: shards, compacted: true },
  ];
}

export function riskTopicSpecs(names: RiskTopicNames, shards: number): TopicSpec[] {
  checkPartitions(shards);
  const list = [names.requests, names.accountEvents, names.chainEvents];
  for (const n of list) if (!isValidTopicName(n)) invalidField('topic name', n, 'a Kafka topic name ([A-Za-z0-9._-], 1..249 chars)');
  if (new Set(list).size !== list.length) throw new ContractError('INVALID_FIELD', `topic names must be distinct: ${list.join(', ')}`);
  return list.map((name) => ({ name, partitions: shards }));
}

function checkPartitions(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    invalidField('partitions', partitions, `an integer in 1..${MAX_PARTITIONS}`);
  }
}

/**
 * Partition of a market in orders / marketEvents / snapshots: marketId % partitions. Markets are numbered
 * densely, so consecutive ids land in consecutive partitions and P partitions get within one market of
 * each other.
 */
export function partitionForMarket(marketId: number, partitions: number): number {
  if (!Number.isSafeInteger(marketId) || marketId < 0) invalidField('marketId', marketId, 'a non-negative safe integer');
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    invalidField('partitions', partitions, `an integer in 1..${MAX_PARTITIONS}`);
  }
  return marketId % partitions;
}

/** Message key of a market's messages. */
export function marketKey(marketId: number): string {
  if (!Number.isSafeInteger(marketId) || marketId < 0) invalidField('marketId', marketId, 'a non-negative safe integer');
  return String(marketId);
}

/** Message key of a dead letter: the source topic and partition ("parallax.orders.v1/3"). */
export function deadLetterKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
