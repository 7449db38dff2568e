import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { RiskShards } from '../service/risk-shards.js';

/** Why the shards' consumer stopped, once it has (set by startRisk). */
export const RISK_FAILURE = Symbol('RISK_FAILURE');
export interface RiskFailure {
  error?: Error;
}

interface Probe {
  readonly status: 'ok' | 'not-ready' | 'error';
  readonly service: 'risk';
  readonly ready: boolean;
  readonly owned: readonly number[];
  readonly error?: string;
}

/**
 * The risk service's probes:
 * - GET /health (liveness): 200 while the shards' consumer runs (restoring included), 503 once it stopped
 *   (fenced, a restore refused): a restart is the cure.
 * - GET /ready (readiness): 200 when this instance has joined the group and restored every shard it owns,
 *   503 otherwise (do not route work here yet).
 * - GET /shards: per owned shard, its state hash (O(state): for audits and operators, not a probe), journal
 *   position and input offsets. Two replicas that applied the same journal show the same hash.
 */
@Controller()
export class RiskProbesController {
  constructor(
    @Inject(RiskShards) private readonly shards: RiskShards,
    @Inject(RISK_FAILURE) private readonly failure: RiskFailure,
  ) {}

  private probe(): Probe {
    const base = { service: 'risk' as const, ready: this.shards.ready, owned: this.shards.ownedShards() };
    if (this.failure.error !== undefined) return { ...base, status: 'error', error: this.failure.error.message };
    return { ...base, status: base.ready ? 'ok' : 'not-ready' };
  }

  @Get('health')
  health(): Probe {
    const p = this.probe();
    if (p.status === 'error') throw new HttpException(p, HttpStatus.SERVICE_UNAVAILABLE);
    return p;
  }

  @Get('ready')
  ready(): Probe {
    const p = this.probe();
    if (p.status !== 'ok') throw new HttpException(p, HttpStatus.SERVICE_UNAVAILABLE);
    return p;
  }

  @Get('shards')
  shardStates(): { shard: number; stateHash: string; journalSeq: number; inputs: Readonly<Record<string, number>>; openOrders: number; accounts: number }[] {
    return this.shards.ownedShards().flatMap((s) => {
      const shard = this.shards.shard(s);
      if (shard === undefined) return [];
      return [{ shard: s, stateHash: shard.engine.stateHash(), journalSeq: shard.journalSeq, inputs: { ...shard.nextOffsets }, openOrders: shard.engine.openOrderCount, accounts: shard.engine.accountCount }];
    });
  }
}
