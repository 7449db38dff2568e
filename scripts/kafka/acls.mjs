// Kafka is a trust boundary: whoever can write `market-events` can make settlement put trades on chain. This is
// the one ACL policy of Parallax's principals, applied by scripts/kafka.sh (the local broker), the compose
// `kafka-setup` service and the k8s `kafka-setup` Job, with the broker's super user:
//
//   node scripts/kafka/acls.mjs --brokers HOST:PORT [--create-topics]   (KAFKA_SASL_* / KAFKA_SSL* of the super user)
//
// --create-topics also creates the pipeline's topics (PARTITIONS, default 12; the risk topics with
// ACCOUNT_SHARDS, default @parallax/contracts DEFAULT_ACCOUNT_SHARDS), through the built transport,
// as the services would: the services' principals are not allowed to create topics.
//
// The authorizer denies whatever is not granted here (allow.everyone.if.no.acl.found=false):
//   parallax-engine        reads orders and its snapshots, writes market events, snapshots, dead letters and
//                          account events, in transactions under its group id
//   parallax-ingest        writes requests (to the risk shards) and nothing else: an order reaches a book only
//                          through its account's shard, so the gateway cannot skip the funds check by writing
//                          orders or signed orders itself; reads market events, signed orders, the shards'
//                          answers and the chain events (the gateway's read side)
//   parallax-settlement    reads market events and signed orders, writes only its status and dead letters
//   parallax-risk          reads requests, chain events and account events; reads and writes its journal and
//                          snapshots; writes orders, signed orders, its answers and dead letters, in transactions under its
//                          group id
//   parallax-chain-watcher writes chain events and its progress topic (read back to resume), nothing else
//   parallax-projector     reads the risk journal and the shards' inputs it names, the market events and the
//                          signed orders (the read models in PostgreSQL); writes nothing: its transactions only
//                          commit its groups' offsets
// Each input of the risk shards has exactly one writer (requests: ingest, chain events: chain watcher, account
// events: engine): whoever may write requests cannot forge a deposit or a fill.
// Topic names and group ids are the defaults (@parallax/contracts DEFAULT_TOPICS); a deployment that renames
// them passes the same names here through TOPIC_* / *_GROUP_ID.
import kafkajs from 'kafkajs';
import { kafkaClientSecurity } from './client-security.mjs';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

export const PRINCIPALS = Object.freeze({
  engine: 'parallax-engine',
  ingest: 'parallax-ingest',
  settlement: 'parallax-settlement',
  risk: 'parallax-risk',
  chainWatcher: 'parallax-chain-watcher',
  projector: 'parallax-projector',
});

export function topicNames(env = process.env) {
  return {
    orders: env.TOPIC_ORDERS ?? 'parallax.orders.v1',
    marketEvents: env.TOPIC_MARKET_EVENTS ?? 'parallax.market-events.v1',
    snapshots: env.TOPIC_SNAPSHOTS ?? 'parallax.engine-snapshots.v1',
    deadLetters: env.TOPIC_DEAD_LETTERS ?? 'parallax.dead-letters.v1',
    signedOrders: env.TOPIC_SIGNED_ORDERS ?? 'parallax.signed-orders.v1',
    settlementStatus: env.TOPIC_SETTLEMENT_STATUS ?? 'parallax.settlement-status.v1',
    // The risk shards' inputs and own topics (@parallax/contracts DEFAULT_RISK_TOPICS, DEFAULT_RISK_STATE_TOPICS).
    requests: env.TOPIC_REQUESTS ?? 'parallax.requests.v1',
    chainEvents: env.TOPIC_CHAIN_EVENTS ?? 'parallax.chain-events.v1',
    accountEvents: env.TOPIC_ACCOUNT_EVENTS ?? 'parallax.account-events.v1',
    riskJournal: env.TOPIC_RISK_JOURNAL ?? 'parallax.risk-journal.v1',
    riskSnapshots: env.TOPIC_RISK_SNAPSHOTS ?? 'parallax.risk-snapshots.v1',
    // The shards' answers to the gateway's requests (@parallax/contracts DEFAULT_RISK_RESULTS_TOPIC).
    riskResults: env.TOPIC_RISK_RESULTS ?? 'parallax.risk-results.v1',
    // The chain watcher's own position (apps/chain-watcher DEFAULT_PROGRESS_TOPIC).
    chainWatcherProgress: env.TOPIC_CHAIN_WATCHER_PROGRESS ?? 'parallax.chain-watcher-progress.v1',
  };
}

/** The policy as plain rows: [principal, resource type, pattern, name, operations]. */
export function policy(env = process.env) {
  const t = topicNames(env);
  const engineGroup = env.ENGINE_GROUP_ID ?? 'parallax-matching-engine';
  const settlementGroup = env.SETTLEMENT_GROUP_ID ?? 'parallax-settlement';
  // Reads outside the group (restore, replay) run in throw-away groups `<client id>-read-<uuid>` (kafka-read.ts).
  const engineClient = env.ENGINE_KAFKA_CLIENT_ID ?? 'parallax-matching-engine';
  const settlementClient = env.SETTLEMENT_KAFKA_CLIENT_ID ?? 'parallax-settlement';
  const riskGroup = env.RISK_GROUP_ID ?? 'parallax-risk';
  const riskClient = env.RISK_KAFKA_CLIENT_ID ?? 'parallax-risk';
  const chainWatcherClient = env.CHAIN_WATCHER_KAFKA_CLIENT_ID ?? 'parallax-chain-watcher';
  const projectorGroup = env.PROJECTOR_GROUP_ID ?? 'parallax-projector';
  const projectorMarketsGroup = env.PROJECTOR_MARKETS_GROUP_ID ?? `${projectorGroup}-markets`;
  const projectorClient = env.PROJECTOR_KAFKA_CLIENT_ID ?? 'parallax-projector';
  const { engine, ingest, settlement, risk, chainWatcher, projector } = PRINCIPALS;
  return [
    [engine, 'TOPIC', 'LITERAL', t.orders, ['READ', 'DESCRIBE']],
    [engine, 'TOPIC', 'LITERAL', t.snapshots, ['READ', 'WRITE', 'DESCRIBE']],
    [engine, 'TOPIC', 'LITERAL', t.marketEvents, ['WRITE', 'DESCRIBE']],
    [engine, 'TOPIC', 'LITERAL', t.deadLetters, ['WRITE', 'DESCRIBE']],
    [engine, 'TOPIC', 'LITERAL', t.accountEvents, ['WRITE', 'DESCRIBE']],
    [engine, 'GROUP', 'LITERAL', engineGroup, ['READ', 'DESCRIBE']],
    [engine, 'GROUP', 'PREFIXED', `${engineClient}-read-`, ['READ']],
    // Transactional ids are `<group>.<orders topic>.<partition>` (transactionalIdFor).
    [engine, 'TRANSACTIONAL_ID', 'PREFIXED', `${engineGroup}.`, ['WRITE', 'DESCRIBE']],
    [engine, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['IDEMPOTENT_WRITE']],

    [ingest, 'TOPIC', 'LITERAL', t.requests, ['WRITE', 'DESCRIBE']],
    // The gateway's read side: the engines' events, the signed orders and the shards' answers (its refusals
    // and minted ids), and the trading-key events it checks a key's Login against; groups parallax-gateway-*.
    [ingest, 'TOPIC', 'LITERAL', t.marketEvents, ['READ', 'DESCRIBE']],
    [ingest, 'TOPIC', 'LITERAL', t.signedOrders, ['READ', 'DESCRIBE']],
    [ingest, 'TOPIC', 'LITERAL', t.riskResults, ['READ', 'DESCRIBE']],
    [ingest, 'TOPIC', 'LITERAL', t.chainEvents, ['READ', 'DESCRIBE']],
    [ingest, 'GROUP', 'PREFIXED', 'parallax-gateway-', ['READ', 'DESCRIBE']],
    [ingest, 'TRANSACTIONAL_ID', 'PREFIXED', 'parallax-ingest.', ['WRITE', 'DESCRIBE']],
    [ingest, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['IDEMPOTENT_WRITE']],

    [settlement, 'TOPIC', 'LITERAL', t.marketEvents, ['READ', 'DESCRIBE']],
    [settlement, 'TOPIC', 'LITERAL', t.signedOrders, ['READ', 'DESCRIBE']],
    [settlement, 'TOPIC', 'LITERAL', t.deadLetters, ['WRITE', 'DESCRIBE']],
    [settlement, 'TOPIC', 'LITERAL', t.settlementStatus, ['WRITE', 'DESCRIBE']],
    [settlement, 'GROUP', 'LITERAL', settlementGroup, ['READ', 'DESCRIBE']],
    [settlement, 'GROUP', 'PREFIXED', `${settlementClient}-read-`, ['READ']],
    // The ingest's transactional ids are `<group>.ingest.<uuid>`.
    [settlement, 'TRANSACTIONAL_ID', 'PREFIXED', `${settlementGroup}.`, ['WRITE', 'DESCRIBE']],
    [settlement, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['IDEMPOTENT_WRITE']],

    [risk, 'TOPIC', 'LITERAL', t.requests, ['READ', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.chainEvents, ['READ', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.accountEvents, ['READ', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.riskJournal, ['READ', 'WRITE', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.riskSnapshots, ['READ', 'WRITE', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.orders, ['WRITE', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.signedOrders, ['WRITE', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.deadLetters, ['WRITE', 'DESCRIBE']],
    [risk, 'TOPIC', 'LITERAL', t.riskResults, ['WRITE', 'DESCRIBE']],
    [risk, 'GROUP', 'LITERAL', riskGroup, ['READ', 'DESCRIBE']],
    [risk, 'GROUP', 'PREFIXED', `${riskClient}-read-`, ['READ']],
    // Transactional ids are `<group>.shard.<shard>` (apps/risk transactionalIdFor).
    [risk, 'TRANSACTIONAL_ID', 'PREFIXED', `${riskGroup}.`, ['WRITE', 'DESCRIBE']],
    [risk, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['IDEMPOTENT_WRITE']],

    [chainWatcher, 'TOPIC', 'LITERAL', t.chainEvents, ['READ', 'WRITE', 'DESCRIBE']],
    [chainWatcher, 'TOPIC', 'LITERAL', t.chainWatcherProgress, ['READ', 'WRITE', 'DESCRIBE']],
    [chainWatcher, 'GROUP', 'PREFIXED', `${chainWatcherClient}-read-`, ['READ']],
    // Its transactional ids are `parallax-chain-watcher-<chain id>-<contract>-<progress topic>`.
    [chainWatcher, 'TRANSACTIONAL_ID', 'PREFIXED', 'parallax-chain-watcher-', ['WRITE', 'DESCRIBE']],
    [chainWatcher, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['IDEMPOTENT_WRITE']],

    [projector, 'TOPIC', 'LITERAL', t.riskJournal, ['READ', 'DESCRIBE']],
    [projector, 'TOPIC', 'LITERAL', t.requests, ['READ', 'DESCRIBE']],
    [projector, 'TOPIC', 'LITERAL', t.chainEvents, ['READ', 'DESCRIBE']],
    [projector, 'TOPIC', 'LITERAL', t.accountEvents, ['READ', 'DESCRIBE']],
    [projector, 'TOPIC', 'LITERAL', t.marketEvents, ['READ', 'DESCRIBE']],
    [projector, 'TOPIC', 'LITERAL', t.signedOrders, ['READ', 'DESCRIBE']],
    [projector, 'GROUP', 'LITERAL', projectorGroup, ['READ', 'DESCRIBE']],
    [projector, 'GROUP', 'LITERAL', projectorMarketsGroup, ['READ', 'DESCRIBE']],
    // The risk inputs a journal entry names are read by range, outside any group.
    [projector, 'GROUP', 'PREFIXED', `${projectorClient}-read-`, ['READ']],
    // Offsets only: `<group>.offsets.<uuid>` and `<markets group>.offsets.<uuid>`.
    [projector, 'TRANSACTIONAL_ID', 'PREFIXED', `${projectorGroup}.`, ['WRITE', 'DESCRIBE']],
    [projector, 'TRANSACTIONAL_ID', 'PREFIXED', `${projectorMarketsGroup}.`, ['WRITE', 'DESCRIBE']],
    [projector, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['IDEMPOTENT_WRITE']],
  ];
}

/** Everything the integration tests do on their own unique topics, groups and transactional ids (local broker only). */
export function testPolicy(principal) {
  return [
    [principal, 'TOPIC', 'LITERAL', '*', ['ALL']],
    [principal, 'GROUP', 'LITERAL', '*', ['ALL']],
    [principal, 'TRANSACTIONAL_ID', 'LITERAL', '*', ['ALL']],
    [principal, 'CLUSTER', 'LITERAL', 'kafka-cluster', ['CREATE', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'IDEMPOTENT_WRITE']],
  ];
}

export function toKafkaJsAcls(rows) {
  return rows.flatMap(([principal, type, pattern, name, operations]) =>
    operations.map((operation) => ({
      resourceType: AclResourceTypes[type],
      resourceName: name,
      resourcePatternType: ResourcePatternTypes[pattern],
      principal: `User:${principal}`,
      host: '*',
      operation: AclOperationTypes[operation],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

async function main(argv) {
  const brokersAt = argv.indexOf('--brokers');
  const brokers = (brokersAt >= 0 ? argv[brokersAt + 1] : process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) throw new Error('--brokers (or KAFKA_BROKERS) is required');
  const testAt = argv.indexOf('--test-principal');
  const rows = [...policy(), ...(testAt >= 0 ? testPolicy(argv[testAt + 1]) : [])];
  const kafka = new Kafka({ brokers, clientId: 'parallax-acls', logLevel: logLevel.NOTHING, ...(await kafkaClientSecurity()) });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Creating an ACL that exists is a no-op on the broker: the whole policy is applied on every run.
    const acl = toKafkaJsAcls(rows);
    await admin.createAcls({ acl });
    console.log(JSON.stringify({ applied: acl.length, principals: [...new Set(rows.map((r) => r[0]))] }));
  } finally {
    await admin.disconnect();
  }
  if (argv.includes('--create-topics')) await createTopics(brokers);
}

async function createTopics(brokers) {
  const partitions = Number(process.env.PARTITIONS ?? '12');
  const { topicSpecs, settlementTopicSpecs, riskTopicSpecs, riskStateTopicSpecs, DEFAULT_ACCOUNT_SHARDS } = await import('@parallax/contracts');
  const shards = Number(process.env.ACCOUNT_SHARDS ?? String(DEFAULT_ACCOUNT_SHARDS));
  const { createKafkaTransport } = await import('@parallax/transport');
  const t = topicNames();
  const rf = process.env.KAFKA_REPLICATION_FACTOR;
  const transport = createKafkaTransport({ brokers, clientId: 'parallax-acls', ...(rf ? { replicationFactor: Number(rf) } : {}) });
  try {
    // The chain watcher's committed position: one compacted partition (its principal may not create it).
    await transport.ensureTopics([{ name: t.chainWatcherProgress, partitions: 1, compacted: true }]);
    await transport.ensureTopics([
      ...topicSpecs({ orders: t.orders, marketEvents: t.marketEvents, snapshots: t.snapshots, deadLetters: t.deadLetters }, partitions),
      ...settlementTopicSpecs({ signedOrders: t.signedOrders, settlementStatus: t.settlementStatus }, partitions),
      ...riskTopicSpecs({ requests: t.requests, chainEvents: t.chainEvents, accountEvents: t.accountEvents }, shards),
      ...riskStateTopicSpecs({ journal: t.riskJournal, snapshots: t.riskSnapshots }, shards),
      { name: t.riskResults, partitions: shards },
    ]);
    console.log(JSON.stringify({ topics: Object.values(t), partitions, accountShards: shards }));
  } finally {
    await transport.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`acls: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
