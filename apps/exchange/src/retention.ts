// What the embedded log of `npm start` may forget. The log trims each partition below what every consumer
// group reading it has committed; the orders topic must also keep what a matching engine replays on restore:
// everything from its partition's oldest latest-per-market snapshot on (the snapshots partition of the same
// number). Without that hold, a restarted engine would find its replay input gone and refuse to restore.
import { decodeMarketSnapshot, type TopicNames } from '@parallax/contracts';
import type { EmbeddedLog } from '@parallax/transport';

/**
 * The first orders offset a restore of `partition` replays from: the lowest nextOffset among the latest
 * snapshot of each market, 0 without snapshots, and 0 (keep all) if a record cannot be read.
 */
export function snapshotReplayStart(log: EmbeddedLog, topics: TopicNames, partition: number): number {
  const snapshots = log.partition(topics.snapshots, partition);
  const latest = new Map<string | null, number>();
  for (const m of snapshots.slice(snapshots.start, snapshots.end, Number.MAX_SAFE_INTEGER)) {
    try {
      latest.set(m.key, decodeMarketSnapshot(m.value).nextOffset);
    } catch {
      // The engine refuses such a partition; keep its input for whoever repairs it.
      return 0;
    }
  }
  let from = Number.POSITIVE_INFINITY;
  for (const offset of latest.values()) from = Math.min(from, offset);
  return latest.size === 0 ? 0 : from;
}

/** Holds the orders input every engine restore needs (recomputed only when a snapshots partition grew). */
export function holdInputForSnapshots(log: EmbeddedLog, topics: TopicNames): void {
  const cache = new Map<number, { end: number; from: number }>();
  log.holdRetention(topics.orders, (partition) => {
    const end = log.partition(topics.snapshots, partition).end;
    const cached = cache.get(partition);
    if (cached !== undefined && cached.end === end) return cached.from;
    const from = snapshotReplayStart(log, topics, partition);
    cache.set(partition, { end, from });
    return from;
  });
}
