import { Controller, Get, Inject, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { HEALTH_INDICATORS, SERVICE_NAME } from '../observability.tokens.js';
import type { HealthProbe, ServiceHealthIndicator } from './health-indicators.js';

/**
 * GET /health (liveness) and GET /ready (readiness) through terminus: 200 with every indicator's details while
 * none is down (`degraded` included), 503 with the same body naming the ones down. Both always include
 * `process` (the service's name and uptime), so a bare service answers 200 while it serves HTTP.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(HEALTH_INDICATORS) private readonly checks: readonly (ServiceHealthIndicator | Type<ServiceHealthIndicator>)[],
    private readonly modules: ModuleRef,
  ) {}

  @Get('health')
  @HealthCheck()
  liveness(): Promise<HealthCheckResult> {
    return this.run('liveness');
  }

  @Get('ready')
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.run('readiness');
  }

  private run(probe: HealthProbe): Promise<HealthCheckResult> {
    // An indicator given as a class is the app's provider (it injects what it checks).
    const all = this.checks.map((c) => (typeof c === 'function' ? this.modules.get(c, { strict: false }) : c));
    const selected = all.filter((c) => probe === 'readiness' || c.probe === 'liveness');
    const fns: HealthIndicatorFunction[] = [
      () => this.indicators.check('process').up({ service: this.service, uptimeSeconds: Math.round(process.uptime()) }),
      ...selected.map((c) => () => c.check(this.indicators.check(c.key))),
    ];
    return this.health.check(fns);
  }
}
