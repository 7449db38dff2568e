// The projector's consumer-group offsets in the log. The database rows hold the real positions (committed with
// the rows); the group's offsets only spare a restart from re-reading what the rows already reflect. So they are
// committed in the background, at most once per interval, in one transaction for every partition that moved:
// a Kafka transaction per database batch would cost three broker round trips each on the consumer's path. Only
// offsets already committed to the database are noted, so the log's offset is never ahead of the rows.
import type { Producer, TopicPartitionOffset } from '@parallax/transport';

export class OffsetCommitter {
  private readonly dirty = new Map<string, TopicPartitionOffset>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: Producer,
    private readonly groupId: string,
    intervalMs: number,
    /** A failed commit costs only a longer re-read after a restart: reported, not fatal. */
    private readonly failed: (err: unknown) => void = () => undefined,
  ) {
    this.timer = setInterval(() => {
      void this.flush();
    }, intervalMs);
    this.timer.unref();
  }

  /** `offset` (the next to read) of a partition whose rows are committed up to it. */
  note(topic: string, partition: number, offset: number): void {
    this.dirty.set(`${topic}/${partition}`, { topic, partition, offset });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.dirty.size === 0) return;
      const offsets = [...this.dirty.values()];
      this.dirty.clear();
      try {
        await this.producer.transaction((tx) => {
          tx.commitOffsets(this.groupId, offsets);
        });
      } catch (err) {
        this.failed(err);
      }
    });
    return this.flushing;
  }

  /** Stops the timer and commits what is noted (before the producer closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
