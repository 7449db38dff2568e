import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';
import { MatchingService } from '../matching/matching.service.js';

/**
 * GET /ready: 200 when this engine has joined its group and restored every partition it owns, 503 (with
 * what it is waiting for) otherwise. The orchestrator's readiness probe; /health stays the liveness probe.
 */
@Controller()
export class ReadinessController {
  constructor(private readonly matching: MatchingService) {}

  @Get('ready')
  ready(): { status: 'ready'; owned: readonly number[] } {
    const r = this.matching.readiness();
    if (!r.ready) {
      throw new HttpException({ status: 'not-ready', owned: r.owned, restoring: r.restoring }, HttpStatus.SERVICE_UNAVAILABLE);
    }
    return { status: 'ready', owned: r.owned };
  }
}
