import { Injectable } from '@nestjs/common';
import type { HealthIndicatorResult, HealthIndicatorSession, ServiceHealthIndicator } from '@parallax/observability';
import { MatchingService } from '../matching/matching.service.js';

/**
 * Readiness (GET /ready): up when this engine has joined its group and restored every partition it owns; down,
 * naming the partitions still restoring, during a rebalance or a restore. Liveness stays the bare /health: a long
 * restore is not a dead process.
 */
@Injectable()
export class PartitionsHealthIndicator implements ServiceHealthIndicator {
  readonly key = 'partitions';
  readonly probe = 'readiness';

  constructor(private readonly matching: MatchingService) {}

  check(session: HealthIndicatorSession): HealthIndicatorResult {
    const r = this.matching.readiness();
    return r.ready ? session.up({ owned: r.owned }) : session.down({ owned: r.owned, restoring: r.restoring });
  }
}
