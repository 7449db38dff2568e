import { transportContract } from '../contract/transport-contract.js';
import { createKafkaTransport } from './kafka-transport.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

transportContract(
  `Kafka (kafkajs, ${brokers.join(',')})`,
  () =>
    Promise.resolve({
      open: () =>
        Promise.resolve(
          createKafkaTransport({
            brokers,
            clientId: 'transport-contract',
            // Small timings keep rebalances short; the broker's minimum session timeout is 6 s.
            consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 200, maxWaitTimeMs: 100, rebalanceTimeoutMs: 10_000 },
          }),
        ),
      close: () => Promise.resolve(),
    }),
  { timeoutMs: 30_000 },
);
