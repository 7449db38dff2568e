import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { SETTLEMENT_STATUSES } from '@parallax/contracts';
import { intParam, ValidQuery, type QueryValues } from '../query/query-params.js';
import { MAX_BATCHES, type BatchView } from './settlement-batches.js';
import { SettlementStatusService } from './settlement-status.service.js';

const BATCHES_QUERY = { limit: intParam(1, MAX_BATCHES, 50) };

/** On-chain settlement batches as the settlement service reports them (also pushed on the WebSocket `settlement` channel). */
@ApiTags('settlement')
@Controller('v1/settlement')
export class SettlementController {
  constructor(private readonly status: SettlementStatusService) {}

  @Get('batches')
  @ApiOperation({ summary: 'Recent settlement batches, newest first: transaction hash, fill count, gas used and gas per fill, status' })
  @ApiQuery({ name: 'limit', required: false, example: 50, description: `1..${MAX_BATCHES}` })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        batches: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              batchId: { type: 'string', description: "the contract's batch id (uint64, decimal)" },
              status: { type: 'string', enum: [...SETTLEMENT_STATUSES] },
              fillCount: { type: 'integer' },
              txHash: { type: 'string', nullable: true },
              blockNumber: { type: 'string', nullable: true },
              gasUsed: { type: 'string', nullable: true },
              gasPerFill: { type: 'string', nullable: true },
              failedFills: { type: 'integer', description: 'fills reported as unsettleable for this batch' },
              createdAt: { type: 'integer', description: 'ms' },
              updatedAt: { type: 'integer', description: 'ms' },
            },
          },
        },
      },
    },
  })
  batches(@ValidQuery(BATCHES_QUERY) { limit }: QueryValues<typeof BATCHES_QUERY>): { batches: BatchView[] } {
    return { batches: this.status.recent(limit) };
  }
}
