import { secondsSinceGauge } from '@parallax/observability';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Fast-path latency buckets (seconds): 50 µs .. 5 s. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Prometheus metrics of one engine instance, registered on the app's registry. */
export class EngineMetrics {
  readonly inputMessages: Counter<'partition'>;
  readonly commands: Counter<'partition' | 'market'>;
  readonly events: Counter<'partition' | 'market'>;
  readonly eventBatches: Counter<'partition'>;
  readonly deadLetters: Counter<'partition' | 'reason'>;
  readonly duplicates: Counter<'partition'>;
  readonly matchLatency: Histogram;
  readonly endToEndLatency: Histogram;
  readonly transactionLatency: Histogram;
  readonly consumerLag: Gauge<'partition'>;
  readonly snapshotAge: Gauge<'partition'>;
  readonly snapshots: Counter<'partition'>;
  readonly snapshotFailures: Counter<'partition'>;
  readonly snapshotBytes: Histogram;
  readonly rebalances: Counter;
  readonly partitionsOwned: Gauge;
  readonly restoreSeconds: Histogram;
  readonly replayedMessages: Counter<'partition'>;
  readonly restoreFailures: Counter<'partition' | 'reason'>;

  /** Per partition: wall-clock ms of its last snapshot (read at scrape time for the age gauge). */
  private readonly lastSnapshotAt = new Map<number, number>();

  constructor(registry: Registry) {
    const registers = [registry];
    const lastSnapshotAt = this.lastSnapshotAt;
    this.inputMessages = new Counter({
      name: 'parallax_engine_input_messages_total',
      help: 'Command batch messages consumed from the orders topic (including poison and duplicates)',
      labelNames: ['partition'],
      registers,
    });
    this.commands = new Counter({
      name: 'parallax_engine_commands_total',
      help: 'Commands applied to order books',
      labelNames: ['partition', 'market'],
      registers,
    });
    this.events = new Counter({
      name: 'parallax_engine_events_total',
      help: 'Book events emitted and committed',
      labelNames: ['partition', 'market'],
      registers,
    });
    this.eventBatches = new Counter({
      name: 'parallax_engine_event_batches_total',
      help: 'EventBatch messages committed to the market events topic',
      labelNames: ['partition'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'parallax_engine_dead_letters_total',
      help: 'Input messages dead-lettered, by reason',
      labelNames: ['partition', 'reason'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'parallax_engine_duplicate_messages_total',
      help: 'Redelivered input messages skipped because the state already reflected them',
      labelNames: ['partition'],
      registers,
    });
    this.matchLatency = new Histogram({
      name: 'parallax_engine_match_latency_seconds',
      help: 'Time to match one input batch (PartitionEngine.process)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.endToEndLatency = new Histogram({
      name: 'parallax_engine_end_to_end_latency_seconds',
      help: 'From the producer sentAtMs of a command batch to the commit of its events',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.transactionLatency = new Histogram({
      name: 'parallax_engine_transaction_seconds',
      help: 'Time to commit one output transaction (events, dead letters, snapshots, input offsets)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'parallax_engine_consumer_lag_messages',
      help: 'Orders partition high watermark minus the next offset to process',
      labelNames: ['partition'],
      registers,
    });
    this.snapshotAge = secondsSinceGauge({
      name: 'parallax_engine_snapshot_age_seconds',
      help: 'Seconds since the partition state was last snapshotted (or restored)',
      label: 'partition',
      since: lastSnapshotAt,
      registers,
    });
    this.snapshots = new Counter({
      name: 'parallax_engine_snapshots_total',
      help: 'Partition snapshots written (one MarketSnapshot per market each)',
      labelNames: ['partition'],
      registers,
    });
    this.snapshotFailures = new Counter({
      name: 'parallax_engine_snapshot_failures_total',
      help: 'Snapshots skipped because a market snapshot could not be encoded (e.g. larger than the message limit)',
      labelNames: ['partition'],
      registers,
    });
    this.snapshotBytes = new Histogram({
      name: 'parallax_engine_snapshot_bytes',
      help: 'Encoded size of one partition snapshot',
      buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
      registers,
    });
    this.rebalances = new Counter({
      name: 'parallax_engine_rebalances_total',
      help: 'Partition assignments received from the consumer group',
      registers,
    });
    this.partitionsOwned = new Gauge({ name: 'parallax_engine_partitions_owned', help: 'Orders partitions owned now', registers });
    this.restoreSeconds = new Histogram({
      name: 'parallax_engine_restore_seconds',
      help: 'Time to restore one partition (snapshot read + silent replay)',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.replayedMessages = new Counter({
      name: 'parallax_engine_replayed_messages_total',
      help: 'Input messages replayed silently during restores',
      labelNames: ['partition'],
      registers,
    });
    this.restoreFailures = new Counter({
      name: 'parallax_engine_restore_failures_total',
      help: 'Restores refused because their state would be partial (missing/unreadable snapshot, deleted input); the engine then stops',
      labelNames: ['partition', 'reason'],
      registers,
    });
  }

  snapshotTaken(partition: number, atMs: number): void {
    this.lastSnapshotAt.set(partition, atMs);
  }

  partitionDropped(partition: number): void {
    const p = String(partition);
    this.lastSnapshotAt.delete(partition);
    this.consumerLag.remove({ partition: p });
  }
}
