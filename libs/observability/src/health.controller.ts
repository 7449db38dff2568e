import { Controller, Get, Inject } from '@nestjs/common';
import { SERVICE_NAME } from './observability.tokens.js';

export interface HealthStatus {
  status: 'ok';
  service: string;
  uptimeSeconds: number;
}

@Controller()
export class HealthController {
  constructor(@Inject(SERVICE_NAME) private readonly service: string) {}

  @Get('health')
  health(): HealthStatus {
    return { status: 'ok', service: this.service, uptimeSeconds: Math.round(process.uptime()) };
  }
}
