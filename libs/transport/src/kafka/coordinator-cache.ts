import type { Kafka, Producer, ProducerConfig } from 'kafkajs';

/** The slice of kafkajs's internal Cluster that the cache wraps (kafkajs 2.2.4, src/cluster/index.js). */
interface ClusterLike {
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<object>;
}

type CreateCluster = (options: unknown) => unknown;

/** Description of the symbol under which a kafkajs 2.2.4 Kafka object keeps its per-client cluster factory. */
const CREATE_CLUSTER = 'private:Kafka:createCluster';

/** Protocol errors that say the broker is not (or not yet) the coordinator it was asked to be. */
const STALE_COORDINATOR = new Set([
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
]);

/**
 * Whether a failed request puts the coordinator it went to in doubt: a coordinator error, or anything that is
 * not a protocol answer (lost connection, timeout). Other answers (CONCURRENT_TRANSACTIONS, a fenced epoch...)
 * came from the right coordinator.
 */
export function isStaleCoordinatorError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { name, type } = error as { name?: unknown; type?: unknown };
  if (name !== 'KafkaJSProtocolError') return true;
  return typeof type !== 'string' || STALE_COORDINATOR.has(type);
}

function isClusterLike(value: unknown): value is ClusterLike {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ClusterLike>).findGroupCoordinator === 'function';
}

/**
 * Makes a kafkajs cluster remember its coordinators. A kafkajs 2.2.4 transactional producer sends a
 * FindCoordinator request before each of AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn: four
 * extra sequential round trips in every transaction, all answered with the same broker (measured in the paced
 * pipeline benchmark: 4.0 per transaction, 2-3 ms each on average, 25-30 ms at p99 on the shared 2-core
 * machine). A cached coordinator is forgotten as soon as a request sent to it fails in a way that puts it in
 * doubt (isStaleCoordinatorError) or kafkajs dropped its connection, so kafkajs's own retry then looks it up
 * again as it would without the cache.
 */
export function cacheCoordinators(cluster: ClusterLike): void {
  const find = cluster.findGroupCoordinator.bind(cluster);
  const cache = new Map<string, object>();
  cluster.findGroupCoordinator = async (args) => {
    const key = `${args.coordinatorType ?? 0}\u0000${args.groupId}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const broker = await find(args);
    const isConnected = (broker as { isConnected?: () => boolean }).isConnected;
    // Only a connected broker is cached: kafkajs's lookup is also what reconnects one.
    if (typeof isConnected !== 'function' || !isConnected.call(broker)) return broker;
    const cached: object = new Proxy(broker, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...callArgs: unknown[]): unknown => {
          const result: unknown = Reflect.apply(value as (...a: unknown[]) => unknown, target, callArgs);
          if (result instanceof Promise) {
            result.catch((error: unknown) => {
              if (isStaleCoordinatorError(error) && cache.get(key) === cached) cache.delete(key);
            });
          }
          return result;
        };
      },
    });
    cache.set(key, cached);
    return cached;
  };
}

/**
 * `kafka.producer(config)` whose cluster caches coordinators (cacheCoordinators). kafkajs builds a private
 * cluster for each producer through a symbol-keyed factory on the Kafka object; if that factory is not where
 * kafkajs 2.2.4 keeps it, the producer is created unchanged (one lookup per request, same behaviour).
 */
export function producerWithCoordinatorCache(kafka: Kafka, config: ProducerConfig): Producer {
  const holder = kafka as unknown as Record<symbol, unknown>;
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const original = symbol === undefined ? undefined : holder[symbol];
  if (symbol === undefined || typeof original !== 'function') return kafka.producer(config);
  holder[symbol] = (options: unknown) => {
    const cluster = (original as CreateCluster)(options);
    if (isClusterLike(cluster)) cacheCoordinators(cluster);
    return cluster;
  };
  try {
    // kafka.producer is synchronous: no other client can be created while the factory is swapped.
    return kafka.producer(config);
  } finally {
    holder[symbol] = original;
  }
}
