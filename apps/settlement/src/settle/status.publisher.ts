import { encodeSettlementStatus, SETTLEMENT_STATUS_KEY, type SettlementStatus } from '@parallax/contracts';
import type { Producer } from '@parallax/transport';

/** Publishes settlement status events (one partition, so consumers see them in the order they happened). */
export function statusPublisher(producer: Producer, topic: string): (status: SettlementStatus) => Promise<void> {
  return (status) => producer.send(topic, [{ key: SETTLEMENT_STATUS_KEY, value: encodeSettlementStatus(status), partition: 0 }]);
}
