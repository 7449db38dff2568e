// The consume-transform-produce loop the benchmark drives through each transport: one transaction per
// batch carrying the outputs and the input offsets, as the engines do.
import type { GroupConsumer, Producer, Transport } from '../transport.js';

export interface CtpOptions {
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly transactionalId: string;
  readonly maxBatchSize: number;
}

export async function startCtp(t: Transport, o: CtpOptions): Promise<{ consumer: GroupConsumer; producer: Producer }> {
  const producer = await t.producer({ transactionalId: o.transactionalId });
  const consumer = await t.consumer({ groupId: o.groupId, topics: [o.input], maxBatchSize: o.maxBatchSize });
  await consumer.run({
    eachBatch: async (batch) => {
      const last = batch.messages[batch.messages.length - 1]!;
      await producer.transaction((tx) => {
        // The "transform": a new value derived from the input (here: the bytes reversed).
        tx.send(
          o.output,
          batch.messages.map((m) => ({ key: m.key ?? '', value: m.value.slice().reverse() })),
        );
        tx.commitOffsets(o.groupId, [{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
      });
    },
  });
  return { consumer, producer };
}
