import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ValidQuery } from '../query/query-params.js';
import { RATE_WINDOW_SECONDS, SERIES_SECONDS, type ThroughputSnapshot } from './throughput.js';
import { StatsService } from './stats.service.js';

/** Throughput through the engines, as this gateway sees their events (also pushed on the WebSocket `stats` channel). */
@ApiTags('stats')
@Controller('v1/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @ApiOperation({ summary: `Orders and trades per second through the engines (mean of the last ${RATE_WINDOW_SECONDS} s) and the last ${SERIES_SECONDS} s per second` })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        timestamp: { type: 'integer', description: 'server time, ms' },
        windowSeconds: { type: 'integer', example: RATE_WINDOW_SECONDS },
        ordersPerSecond: { type: 'number', description: 'orders the engines answered (accepted or rejected) per second' },
        tradesPerSecond: { type: 'number' },
        totalOrders: { type: 'integer', description: 'since this gateway started' },
        totalTrades: { type: 'integer' },
        series: { type: 'array', description: '[second start ms, orders, trades], oldest first', items: { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 } },
      },
    },
  })
  get(@ValidQuery({}) _q: unknown): ThroughputSnapshot {
    return this.stats.snapshot();
  }
}
