// Co-partitioned assignment (ConsumerOptions.coPartitioned), shared by both transports so they assign alike:
// partition p of every topic goes to member p mod n, members in the order given (stable: sorted ids). A
// consumer whose state depends on several topics keyed alike (the account shards: requests, chain events and
// account events of one account all sit in partition shardForAccount) then owns all of its inputs.
import { TransportError, type TopicPartition } from './transport.js';

/** Partition p of each topic to members[p % members.length]; every topic must have the same partition count. */
export function coPartitionedPlan<M>(members: readonly M[], topics: readonly { readonly topic: string; readonly partitions: number }[]): Map<M, TopicPartition[]> {
  const plan = new Map<M, TopicPartition[]>(members.map((m) => [m, []]));
  if (members.length === 0) return plan;
  const counts = new Set(topics.map((t) => t.partitions));
  if (counts.size > 1) {
    throw new TransportError('INVALID_PARTITION', `co-partitioned topics need one partition count: ${topics.map((t) => `${t.topic}=${t.partitions}`).join(', ')}`);
  }
  const sorted = [...topics].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  for (const { topic, partitions } of sorted) {
    for (let partition = 0; partition < partitions; partition++) plan.get(members[partition % members.length]!)!.push({ topic, partition });
  }
  return plan;
}
