import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BatchPatterns, RethrowFilter } from '@parallax/microservice';
import type { ConsumedBatch, TopicPartition } from '@parallax/transport';
import { IngestService } from './ingest.service.js';

/** Adapter: batches of the market-events and signed-orders topics -> IngestService. */
@Controller()
@UseFilters(RethrowFilter)
export class IngestConsumer {
  constructor(private readonly ingest: IngestService) {}

  @EventPattern(BatchPatterns.assigned)
  assigned(@Payload() _partitions: readonly TopicPartition[]): void {
    // Nothing to restore: the database is the state; redelivered messages are skipped by their keys.
  }

  @EventPattern(BatchPatterns.revoked)
  revoked(@Payload() _partitions: readonly TopicPartition[]): void {
    // Nothing held in memory per partition.
  }

  @EventPattern(BatchPatterns.batch)
  batch(@Payload() batch: ConsumedBatch): Promise<void> {
    return this.ingest.batch(batch);
  }
}
