import { Controller, Get, HttpException, HttpStatus, Inject, Optional } from '@nestjs/common';
import { HEALTH_CHECK, SERVICE_NAME } from './observability.tokens.js';

export interface HealthStatus {
  status: 'ok' | 'degraded' | 'error';
  service: string;
  uptimeSeconds: number;
  [detail: string]: unknown;
}

/**
 * A service's own view of whether it works. `healthy: false` answers 503 (an orchestrator stops routing
 * to it or restarts it); `status: 'degraded'` answers 200 with the details (it works, someone should look).
 */
export type HealthCheck = () => { readonly healthy: boolean; readonly status: 'ok' | 'degraded' | 'error'; readonly details: Record<string, unknown> };

@Controller()
export class HealthController {
  constructor(
    @Inject(SERVICE_NAME) private readonly service: string,
    @Optional() @Inject(HEALTH_CHECK) private readonly check?: HealthCheck,
  ) {}

  @Get('health')
  health(): HealthStatus {
    const base = { service: this.service, uptimeSeconds: Math.round(process.uptime()) };
    if (this.check === undefined) return { status: 'ok', ...base };
    const r = this.check();
    const body: HealthStatus = { ...r.details, status: r.status, ...base };
    if (!r.healthy) throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }
}
