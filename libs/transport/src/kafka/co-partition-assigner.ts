// kafkajs assignor for ConsumerOptions.coPartitioned (kafkajs's round robin deals out the topic-partitions of
// all topics in one sequence, so partition p of two topics can land on different members).
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { coPartitionedPlan } from '../co-partition.js';

export const CO_PARTITION_ASSIGNER = 'ParallaxCoPartitioned';

export const coPartitionAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITION_ASSIGNER,
  version: 0,
  assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const plan = coPartitionedPlan(
      ids,
      topics.map((topic) => ({ topic, partitions: cluster.findTopicPartitionMetadata(topic).length })),
    );
    return Promise.resolve(
      ids.map((memberId) => {
        const assignment: Record<string, number[]> = {};
        for (const tp of plan.get(memberId) ?? []) (assignment[tp.topic] ??= []).push(tp.partition);
        return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }) };
      }),
    );
  },
  protocol({ topics }) {
    return { name: CO_PARTITION_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
