import { Controller, Get, Inject } from '@nestjs/common';
import { stateIndicator, type ServiceHealthIndicator } from '@parallax/observability';
import { RiskShards } from '../service/risk-shards.js';

/** Why the shards' consumer stopped, once it has (set by startRisk). */
export interface RiskFailure {
  error?: Error;
}

/**
 * The risk service's probes, on the shared terminus module (libs/observability):
 * - `consumer` (liveness, GET /health): down once the shards' consumer stopped (fenced, a restore refused, with
 *   the reason): a restart is the cure. Restoring is not a dead process.
 * - `shards` (readiness, GET /ready): up when this instance has joined the group and restored every shard it
 *   was assigned (it may own none); down while joining or restoring, naming the shards still restoring.
 */
export function riskHealthIndicators(shards: RiskShards, failure: RiskFailure): ServiceHealthIndicator[] {
  return [
    stateIndicator('consumer', 'liveness', () => (failure.error === undefined ? { status: 'up' } : { status: 'down', details: { reason: failure.error.message } })),
    stateIndicator('shards', 'readiness', () => {
      const r = shards.readiness();
      const details = { joined: r.joined, owned: r.owned, restoring: r.restoring };
      return { status: r.ready ? 'up' : 'down', details };
    }),
  ];
}

/**
 * GET /shards: per owned shard, its state hash (O(state): for audits and operators, not a probe), journal
 * position and input offsets. Two replicas that applied the same journal show the same hash.
 */
@Controller()
export class RiskShardsController {
  constructor(@Inject(RiskShards) private readonly shards: RiskShards) {}

  @Get('shards')
  shardStates(): { shard: number; stateHash: string; journalSeq: number; inputs: Readonly<Record<string, number>>; openOrders: number; accounts: number }[] {
    return this.shards.ownedShards().flatMap((s) => {
      const shard = this.shards.shard(s);
      if (shard === undefined) return [];
      return [{ shard: s, stateHash: shard.engine.stateHash(), journalSeq: shard.journalSeq, inputs: { ...shard.nextOffsets }, openOrders: shard.engine.openOrderCount, accounts: shard.engine.accountCount }];
    });
  }
}
