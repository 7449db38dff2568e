import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { RiskShards } from '../service/risk-shards.js';

/**
 * GET /ready: 200 when this instance has joined the group and restored every shard it owns, 503 otherwise
 * (the orchestrator's readiness probe; /health is the liveness probe and says the same in its details).
 */
@Controller()
export class RiskReadinessController {
  constructor(@Inject(RiskShards) private readonly shards: RiskShards) {}

  @Get('ready')
  ready(): { status: 'ready'; owned: readonly number[] } {
    const owned = this.shards.ownedShards();
    if (!this.shards.ready) throw new HttpException({ status: 'not-ready', owned }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready', owned };
  }
}
