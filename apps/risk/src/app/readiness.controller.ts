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

  /**
   * GET /shards: per owned shard, its state hash (O(state): for audits and operators, not a probe), journal
   * position and input offsets. Two replicas that applied the same journal show the same hash.
   */
  @Get('shards')
  shardStates(): { shard: number; stateHash: string; journalSeq: number; inputs: Readonly<Record<string, number>>; openOrders: number; accounts: number }[] {
    return this.shards.ownedShards().flatMap((s) => {
      const shard = this.shards.shard(s);
      if (shard === undefined) return [];
      return [{ shard: s, stateHash: shard.engine.stateHash(), journalSeq: shard.journalSeq, inputs: { ...shard.nextOffsets }, openOrders: shard.engine.openOrderCount, accounts: shard.engine.accountCount }];
    });
  }
}
