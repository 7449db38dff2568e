import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type Kafka, type PartitionAssigner } from 'kafkajs';
import type { ConsumedMessage } from '../transport.js';
import { fromKafkaMessage } from './kafka-util.js';

/** Assigns exactly one partition of one topic to the (single) member of a throwaway group. */
function onePartition(topic: string, partition: number): PartitionAssigner {
  return () => ({
    name: 'ParallaxSinglePartition',
    version: 1,
    assign: ({ members }) =>
      Promise.resolve(
        members.map(({ memberId }, i) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: i === 0 ? { [topic]: [partition] } : {},
            userData: Buffer.alloc(0),
          }),
        })),
      ),
    protocol: ({ topics }) => ({
      name: 'ParallaxSinglePartition',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    }),
  });
}

type Item = { readonly messages: readonly ConsumedMessage[]; readonly taken: () => void } | 'end' | { readonly error: unknown };

/**
 * Reads [from, end) of one partition, read_committed, with a throwaway consumer: kafkajs has no manual
 * assignment, so it joins a fresh group whose assigner hands it just this partition, and seeks to `from`
 * the moment the assignment arrives (before the first fetch). `end` must not exceed the partition's last
 * stable offset, so every offset below it is decided.
 *
 * Termination does not wait for a message at end - 1: commit/abort markers and aborted records occupy
 * offsets but are never delivered. kafkajs reports the last offset of every fetched batch, filtered records
 * included (END_BATCH_PROCESS, also emitted for batches left empty by filtering), and the read ends as soon
 * as that position reaches `end`.
 */
export async function* readPartition(
  kafka: Kafka,
  clientId: string,
  topic: string,
  partition: number,
  from: number,
  end: number,
  settings: { readonly maxBytesPerPartition: number },
): AsyncGenerator<readonly ConsumedMessage[]> {
  if (from >= end) return;
  const consumer = kafka.consumer({
    groupId: `${clientId}-read-${randomUUID()}`,
    partitionAssigners: [onePartition(topic, partition)],
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: settings.maxBytesPerPartition,
    retry: { restartOnFailure: () => Promise.resolve(false) },
  });

  // Hand-off to the reader: kafkajs waits in eachBatch until the reader took the batch (back-pressure).
  const queue: Item[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const push = (item: Item) => {
    queue.push(item);
    const w = wake;
    wake = undefined;
    w?.();
  };
  const finish = (item: 'end' | { error: unknown }) => {
    if (done) return;
    done = true;
    push(item);
  };
  const reached = (lastOffset: string) => {
    if (Number(lastOffset) + 1 >= end) finish('end');
  };

  consumer.on(consumer.events.GROUP_JOIN, () => {
    consumer.seek({ topic, partition, offset: String(from) });
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    if (event.payload.topic === topic && event.payload.partition === partition) reached(event.payload.lastOffset);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    finish({ error: event.payload.error });
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (done) return;
        const messages: ConsumedMessage[] = [];
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset >= from && offset < end) messages.push(fromKafkaMessage(topic, partition, m));
        }
        if (messages.length > 0) {
          await new Promise<void>((taken) => {
            push({ messages, taken });
          });
        }
        reached(batch.lastOffset());
      },
    });
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift()!;
      if (item === 'end') return;
      if ('error' in item) throw item.error;
      try {
        yield item.messages;
      } finally {
        item.taken();
      }
    }
  } finally {
    done = true;
    // Release a batch still waiting in eachBatch, then leave the throwaway group.
    for (const item of queue) if (typeof item === 'object' && 'taken' in item) item.taken();
    await consumer.disconnect().catch(() => undefined);
  }
}
