// Test support: writes chain events (deposits, trading-key authorizations...) to the risk shards' input the
// way the chain watcher does, one ChainEventBatch per account shard. Production deposits come from the
// chain watcher only; tests and benchmarks that run without one use this.
import { encodeChainEventBatch, type ChainEvent } from '@parallax/contracts';
import { shardForAccount } from '@parallax/risk';
import type { Transport } from '@parallax/transport';

export async function publishChainEvents(transport: Transport, topic: string, shards: number, events: readonly ChainEvent[]): Promise<void> {
  const byShard = new Map<number, ChainEvent[]>();
  for (const e of events) {
    const s = shardForAccount(e.account, shards);
    let list = byShard.get(s);
    if (list === undefined) byShard.set(s, (list = []));
    list.push(e);
  }
  const producer = await transport.producer();
  try {
    await producer.send(
      topic,
      [...byShard].map(([partition, list]) => ({ key: list[0]!.account, partition, value: encodeChainEventBatch({ sentAtMs: Date.now(), events: list }) })),
    );
  } finally {
    await producer.close();
  }
}
