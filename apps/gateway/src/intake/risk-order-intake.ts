// OrderIntake on the risk shards' requests topic (Kafka or the embedded log): one RiskRequestBatch per
// account shard per flush, partition = shardForAccount(account, S), key = the first request's account.
//
// Requests arriving while a send is in flight are grouped, so a burst costs one log round trip. The
// requests' logical clock (`ts`, ms) is stamped here at flush time and never goes back within this gateway
// (the book refuses a command whose ts regressed).
import { encodeRiskRequestBatch, MAX_RISK_RECORDS, type ClientRequest } from '@parallax/contracts';
import { shardForAccount } from '@parallax/risk';
import type { OutgoingMessage, Producer, Transport } from '@parallax/transport';
import type { IntakeItem, OrderIntake } from './order-intake.js';

/** Records per message: a place is ~190 bytes, so this stays far below the 1 MiB contract limit. */
const MAX_PER_MESSAGE = Math.min(4_000, MAX_RISK_RECORDS);

interface Pending {
  readonly items: readonly IntakeItem[];
  resolve(): void;
  reject(err: unknown): void;
}

export class RiskOrderIntake implements OrderIntake {
  private queue: Pending[] = [];
  private flushing = false;
  private closed = false;
  private lastTs = 0;

  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly shards: number,
    private readonly clock: () => number,
  ) {}

  /** `shards`: the account shard count S the risk shards were deployed with (the requests topic's partitions). */
  static async open(transport: Transport, topic: string, shards: number, clock: () => number = Date.now): Promise<RiskOrderIntake> {
    const partitions = await transport.partitionCount(topic);
    if (partitions !== shards) throw new Error(`${topic} has ${partitions} partitions, the account shards are ${shards}: an account's requests must reach its shard`);
    return new RiskOrderIntake(await transport.producer(), topic, shards, clock);
  }

  submit(items: readonly IntakeItem[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('order intake closed'));
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.flushing) setImmediate(() => void this.flush());
      this.flushing = true;
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.send(batch);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.flushing = false;
  }

  private async send(batch: readonly Pending[]): Promise<void> {
    const ts = Math.max(this.clock(), this.lastTs);
    this.lastTs = ts;
    const byShard = new Map<number, ClientRequest[]>();
    for (const p of batch) {
      for (const item of p.items) {
        const shard = shardForAccount(item.request.account, this.shards);
        let list = byShard.get(shard);
        if (list === undefined) byShard.set(shard, (list = []));
        list.push({ ...item.request, ts });
      }
    }
    const out: OutgoingMessage[] = [];
    const sentAtMs = Date.now();
    for (const [shard, requests] of byShard) {
      for (let i = 0; i < requests.length; i += MAX_PER_MESSAGE) {
        const part = requests.slice(i, i + MAX_PER_MESSAGE);
        out.push({ key: part[0]!.account, partition: shard, value: encodeRiskRequestBatch({ sentAtMs, requests: part }) });
      }
    }
    await this.producer.send(this.topic, out);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    await this.producer.close();
  }
}
