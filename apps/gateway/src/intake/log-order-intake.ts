// OrderIntake on the partitioned log (Kafka or the embedded log), as the load generator writes it.
//
// Requests arriving while a send is in flight are grouped: one flush sends one SignedOrderBatch and one
// CommandBatch message per market for everything queued, so a burst of orders costs two log round trips,
// not two per order. Signed orders go first: settlement must know an order's signature before any of its
// trades appear. The engine's logical clock (`ts`) is stamped here at flush time and never goes back per
// market within this gateway (the book refuses a command whose ts regressed).
import { encodeCommandBatch, encodeSignedOrderBatch, marketKey, partitionForMarket, type SignedOrderRecord } from '@parallax/contracts';
import type { Command } from '@parallax/order-book';
import type { OutgoingMessage, Producer, Transport } from '@parallax/transport';
import type { IntakeItem, OrderIntake } from './order-intake.js';

export interface LogIntakeTopics {
  readonly orders: string;
  readonly signedOrders: string;
}

/** Records per message: ~116 bytes a signed order keeps a message far below the 1 MiB contract limit. */
const MAX_PER_MESSAGE = 4_000;

interface Pending {
  readonly items: readonly IntakeItem[];
  resolve(): void;
  reject(err: unknown): void;
}

export class LogOrderIntake implements OrderIntake {
  private queue: Pending[] = [];
  private flushing = false;
  private closed = false;
  private readonly lastTs = new Map<number, number>();

  private constructor(
    private readonly producer: Producer,
    private readonly topics: LogIntakeTopics,
    private readonly partitions: number,
    private readonly clock: () => number,
  ) {}

  static async open(transport: Transport, topics: LogIntakeTopics, clock: () => number = Date.now): Promise<LogOrderIntake> {
    const partitions = await transport.partitionCount(topics.orders);
    const signedPartitions = await transport.partitionCount(topics.signedOrders);
    if (signedPartitions !== partitions) {
      throw new Error(`${topics.signedOrders} has ${signedPartitions} partitions, ${topics.orders} ${partitions}: a market's signed orders must sit in its orders partition`);
    }
    return new LogOrderIntake(await transport.producer(), topics, partitions, clock);
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
    const signed = new Map<number, SignedOrderRecord[]>();
    const commands = new Map<number, Command[]>();
    const now = this.clock();
    for (const p of batch) {
      for (const item of p.items) {
        const ts = Math.max(now, this.lastTs.get(item.marketId) ?? 0);
        this.lastTs.set(item.marketId, ts);
        let list = commands.get(item.marketId);
        if (list === undefined) commands.set(item.marketId, (list = []));
        if (item.kind === 'place') {
          let s = signed.get(item.marketId);
          if (s === undefined) signed.set(item.marketId, (s = []));
          s.push(item.signed);
        }
        list.push({ ...item.command, ts });
      }
    }
    const signedOut: OutgoingMessage[] = [];
    for (const [marketId, orders] of signed) {
      for (let i = 0; i < orders.length; i += MAX_PER_MESSAGE) {
        signedOut.push(this.message(marketId, encodeSignedOrderBatch({ marketId, orders: orders.slice(i, i + MAX_PER_MESSAGE) })));
      }
    }
    const commandsOut: OutgoingMessage[] = [];
    for (const [marketId, cmds] of commands) {
      for (let i = 0; i < cmds.length; i += MAX_PER_MESSAGE) {
        commandsOut.push(this.message(marketId, encodeCommandBatch({ marketId, sentAtMs: Date.now(), commands: cmds.slice(i, i + MAX_PER_MESSAGE) })));
      }
    }
    if (signedOut.length > 0) await this.producer.send(this.topics.signedOrders, signedOut);
    await this.producer.send(this.topics.orders, commandsOut);
  }

  private message(marketId: number, value: Uint8Array): OutgoingMessage {
    return { key: marketKey(marketId), partition: partitionForMarket(marketId, this.partitions), value };
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    await this.producer.close();
  }
}
