import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BatchPatterns, RethrowFilter } from '@parallax/microservice';
import type { ConsumedBatch, TopicPartition } from '@parallax/transport';
import { MatchingService } from '../matching/matching.service.js';

/** Adapter: consumer-group callbacks and order batches -> MatchingService. */
@Controller()
@UseFilters(RethrowFilter)
export class OrdersConsumer {
  constructor(private readonly matching: MatchingService) {}

  @EventPattern(BatchPatterns.assigned)
  assigned(@Payload() partitions: readonly TopicPartition[]): Promise<void> {
    return this.matching.assigned(partitions);
  }

  @EventPattern(BatchPatterns.revoked)
  revoked(@Payload() partitions: readonly TopicPartition[]): Promise<void> {
    return this.matching.revoked(partitions);
  }

  @EventPattern(BatchPatterns.batch)
  batch(@Payload() batch: ConsumedBatch): Promise<void> {
    return this.matching.batch(batch);
  }
}
