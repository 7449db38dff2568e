import { Catch, Controller, UseFilters, type RpcExceptionFilter } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumedBatch, TopicPartition } from '@parallax/transport';
import { type Observable, throwError } from 'rxjs';
import { BatchPatterns } from './batch-consumer.server.js';
import { MatchingService } from '../matching/matching.service.js';

/**
 * Nest's default RPC filter replaces unknown errors by a generic "Internal server error" object. The batch
 * consumer must see the real error (a fenced producer, a failed commit) to stop and report it, so this one
 * passes every error through unchanged.
 */
@Catch()
export class RethrowFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

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
