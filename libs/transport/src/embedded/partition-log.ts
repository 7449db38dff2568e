import type { ConsumedMessage } from '../transport.js';

export interface PartitionLogOptions {
  /** Keep only the latest record per key (lazily, see `compactIfDue`). */
  readonly compacted: boolean;
}

/** The smallest number of appended records between two compaction passes. */
const MIN_COMPACTION_INTERVAL = 1024;

/**
 * One partition of the embedded log: records in offset order. Offsets may have gaps, exactly as in Kafka:
 * every committed transaction leaves one offset for its commit marker, compaction removes superseded
 * records, retention removes the oldest. Records are shared by every reader, which must treat them as read-only.
 */
export class PartitionLog {
  private records: ConsumedMessage[] = [];
  /** Index of the first retained record in `records` (the prefix before it is trimmed lazily). */
  private head = 0;
  private next = 0;
  /** Records appended since the last compaction pass (compacted partitions only). */
  private sinceCompaction = 0;
  /** Records that survived the last compaction pass. */
  private survivors = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly options: PartitionLogOptions,
  ) {}

  /** The offset the next appended record will get. */
  get end(): number {
    return this.next;
  }

  /** The first offset still held (the end when nothing is held). */
  get start(): number {
    return this.head < this.records.length ? this.records[this.head]!.offset : this.next;
  }

  /** Number of records held. */
  get size(): number {
    return this.records.length - this.head;
  }

  append(key: string, value: Uint8Array, headers: Readonly<Record<string, string>>, timestamp: number): number {
    const offset = this.next++;
    // Not frozen (freezing costs more than the append): records are shared, readers must not modify them.
    this.records.push({ topic: this.topic, partition: this.partition, offset, key, value, timestamp, headers });
    this.sinceCompaction++;
    return offset;
  }

  /** Leaves an offset without a deliverable record (Kafka's transaction commit marker). */
  skipOffset(): void {
    this.next++;
  }

  /** Called after a group of appends: applies compaction, then wakes the readers. */
  appended(): void {
    this.compactIfDue();
    for (const wake of this.listeners) wake();
  }

  /**
   * Drops the records below `offset` (retention; the log decides what no reader needs any more). Offsets do
   * not change; `start` moves up. The array itself is cut only when the dead prefix is large, so trimming is
   * amortised O(1) per record.
   */
  trimTo(offset: number): void {
    if (offset <= this.start) return;
    this.head = this.indexOf(offset);
    if (this.head >= 1024 && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  /** Records with offsets in [from, to), at most `max` of them. */
  slice(from: number, to: number, max: number): ConsumedMessage[] {
    const first = this.indexOf(from);
    const last = Math.min(this.indexOf(to), first + max);
    return last > first ? this.records.slice(first, last) : [];
  }

  /** Index in `records` of the first held record whose offset is >= `offset`. */
  private indexOf(offset: number): number {
    const records = this.records;
    let lo = this.head;
    let hi = records.length;
    // Fast path for the common reads: the position is the end, or lands exactly on a dense stretch.
    if (hi === lo || offset > records[hi - 1]!.offset) return hi;
    const guess = lo + (offset - records[lo]!.offset);
    if (guess >= lo && guess < hi && records[guess]!.offset === offset) return guess;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (records[mid]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  addListener(wake: () => void): void {
    this.listeners.add(wake);
  }

  removeListener(wake: () => void): void {
    this.listeners.delete(wake);
  }

  /**
   * Compaction keeps the latest record of every key and never changes offsets. It runs when at least as
   * many records were appended since the last pass as survived it (and at least 1024), so its cost is
   * amortised O(1) per append and a partition holds at most max(2 x live keys, live keys + 1024) records.
   */
  private compactIfDue(): void {
    if (!this.options.compacted) return;
    if (this.sinceCompaction < Math.max(MIN_COMPACTION_INTERVAL, this.survivors)) return;
    const latest = new Map<string | null, number>();
    for (let i = this.head; i < this.records.length; i++) latest.set(this.records[i]!.key, i);
    const kept: ConsumedMessage[] = [];
    for (let i = this.head; i < this.records.length; i++) {
      if (latest.get(this.records[i]!.key) === i) kept.push(this.records[i]!);
    }
    this.records = kept;
    this.head = 0;
    this.sinceCompaction = 0;
    this.survivors = kept.length;
  }

  get compacted(): boolean {
    return this.options.compacted;
  }
}
