import kafkajs from 'kafkajs';
import type { Admin } from 'kafkajs';
import { KafkaPlumbingError } from './errors.js';

const { ConfigResourceTypes } = kafkajs;

export interface TopicSpec {
  readonly name: string;
  /** Fixed for the life of the topic: the key -> partition mapping (and so shard ownership) depends on it. */
  readonly partitions: number;
  /** Default: min(3, brokers in the cluster), i.e. 1 on a single dev broker, 3 in production. */
  readonly replicationFactor?: number;
  /** Topic-level configs, e.g. { 'cleanup.policy': 'compact' } for snapshot topics. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface EnsureTopicsResult {
  readonly created: readonly string[];
  readonly existing: readonly string[];
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

function validate(specs: readonly TopicSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (!TOPIC_NAME.test(spec.name) || spec.name === '.' || spec.name === '..') {
      throw new KafkaPlumbingError('TOPIC_SPEC_INVALID', `'${spec.name}' is not a legal topic name ([A-Za-z0-9._-], 1-249 chars)`);
    }
    if (seen.has(spec.name)) throw new KafkaPlumbingError('TOPIC_SPEC_INVALID', `topic '${spec.name}' is listed twice`);
    seen.add(spec.name);
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new KafkaPlumbingError('TOPIC_SPEC_INVALID', `topic '${spec.name}': partitions must be a positive integer, got ${spec.partitions}`);
    }
    const rf = spec.replicationFactor;
    if (rf !== undefined && (!Number.isInteger(rf) || rf < 1)) {
      throw new KafkaPlumbingError('TOPIC_SPEC_INVALID', `topic '${spec.name}': replicationFactor must be a positive integer, got ${rf}`);
    }
  }
}

/**
 * Creates the topics that do not exist yet and checks the ones that do. Idempotent and safe to call from
 * every instance at boot (a concurrent creator is fine). An existing topic with another partition count or
 * another value of a pinned config fails with TOPIC_PARTITIONS_MISMATCH / TOPIC_CONFIG_MISMATCH rather than
 * being altered: repartitioning moves keys between shards and is an operator decision.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  validate(specs);
  if (specs.length === 0) return { created: [], existing: [] };

  const present = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !present.has(spec.name));
  if (missing.length > 0) {
    const cluster = await admin.describeCluster();
    const defaultReplication = Math.min(3, cluster.brokers.length);
    // false means another instance created (some of) them first; the checks below still apply.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? defaultReplication,
        configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
  const partitionCounts = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
  for (const spec of specs) {
    const actual = partitionCounts.get(spec.name);
    if (actual !== spec.partitions) {
      throw new KafkaPlumbingError(
        'TOPIC_PARTITIONS_MISMATCH',
        `topic '${spec.name}' has ${actual ?? 'no'} partitions, the spec says ${spec.partitions}`,
      );
    }
  }

  const pinned = specs.filter((spec) => Object.keys(spec.config ?? {}).length > 0);
  if (pinned.length > 0) {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: pinned.map((spec) => ({
        type: ConfigResourceTypes.TOPIC,
        name: spec.name,
        configNames: Object.keys(spec.config ?? {}),
      })),
    });
    for (const spec of pinned) {
      const resource = described.resources.find((candidate) => candidate.resourceName === spec.name);
      const actual = new Map((resource?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]));
      for (const [name, value] of Object.entries(spec.config ?? {})) {
        if (actual.get(name) !== value) {
          throw new KafkaPlumbingError(
            'TOPIC_CONFIG_MISMATCH',
            `topic '${spec.name}' has ${name}=${actual.get(name) ?? '(unset)'}, the spec says ${value}`,
          );
        }
      }
    }
  }

  const missingNames = new Set(missing.map((spec) => spec.name));
  return {
    created: specs.filter((spec) => missingNames.has(spec.name)).map((spec) => spec.name),
    existing: specs.filter((spec) => !missingNames.has(spec.name)).map((spec) => spec.name),
  };
}
