import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../errors/api.errors.js';
import { WeighedBy } from '../rate-limit/weighted-throttler.js';
import { HistoryService } from '../history/history.service.js';
import { intParam, marketParam, ValidQuery, type QueryValues } from '../query/query-params.js';
import { AmendOrderDto, BatchCancelDto, BatchPlaceDto, CancelAllDto, CancelOrderDto, PlaceOrderDto } from './orders.dto.js';
import { OrdersService, type Session } from './orders.service.js';

const MARKET_QUERY = { market: marketParam };
const HISTORY_QUERY = { market: marketParam, limit: intParam(1, 1000, 500), before: intParam(0, Number.MAX_SAFE_INTEGER, undefined) };

function waitFlag(wait: unknown): boolean {
  if (wait === undefined || wait === 'ack') return false;
  if (wait === 'result') return true;
  throw new ApiError('INVALID_FIELD', "wait must be 'ack' or 'result'");
}

const AUTH_HEADERS = [
  { name: 'x-parallax-trader', description: 'The wallet address' },
  { name: 'x-parallax-expiry', description: 'Unix seconds the Login signature expires' },
  { name: 'x-parallax-nonce', description: 'Login nonce' },
  { name: 'x-parallax-signature', description: 'EIP-712 Login(trader, expiry, nonce) signature (SDK: signLogin)' },
];

function header(h: Record<string, unknown>, name: string): string {
  const v = h[name];
  if (typeof v !== 'string') throw new ApiError('NOT_LOGGED_IN', `${name} header required (a signed Login)`);
  return v;
}

@ApiTags('orders')
@Controller('v1/orders')
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly history: HistoryService,
  ) {}

  private session(h: Record<string, unknown>): Session {
    return this.orders.login(header(h, 'x-parallax-trader'), header(h, 'x-parallax-expiry'), header(h, 'x-parallax-nonce'), header(h, 'x-parallax-signature'));
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Place an EIP-712 signed order', description: "Answers once the order is durably in the log ('accepted'); with wait=result, the engine's answer within the bound ('answered', or 'pending' when the bound passed). Resending the same signed order (same trader and nonce) never creates a second order: the answer says duplicate." })
  @ApiQuery({ name: 'wait', required: false, enum: ['ack', 'result'] })
  async place(@Body() dto: PlaceOrderDto, @Query('wait') wait: unknown): Promise<unknown> {
    const [r] = await this.orders.place([dto], waitFlag(wait));
    return r;
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Place several signed orders in one request (all verified before any is submitted)', description: 'Counts one per order against the rate limits.' })
  @WeighedBy('orders')
  @ApiQuery({ name: 'wait', required: false, enum: ['ack', 'result'] })
  async placeBatch(@Body() dto: BatchPlaceDto, @Query('wait') wait: unknown): Promise<unknown> {
    return { orders: await this.orders.place(dto.orders, waitFlag(wait)) };
  }

  @Post('cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel one order by id or client order id (signed Cancel)' })
  async cancel(@Body() dto: CancelOrderDto): Promise<unknown> {
    const [r] = await this.orders.cancel([dto]);
    return r;
  }

  @Post('cancel-batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel several orders (each a signed Cancel)', description: 'Counts one per cancel against the rate limits.' })
  @WeighedBy('cancels')
  async cancelBatch(@Body() dto: BatchCancelDto): Promise<unknown> {
    return { cancels: await this.orders.cancel(dto.cancels) };
  }

  @Post('amend')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Amend an order: cancel it and place a new signed order (the answer says so)',
    description:
      "A signed order cannot change its price or grow: an amend is the old order's signed Cancel plus a new signed order. The old order is cancelled first; the new one is submitted once this gateway has seen the cancel take effect (or the wait bound passed), so the funds the old order held back the new one. The new order has its own id and its own time priority: `method` is always 'cancel-replace'.",
  })
  @ApiQuery({ name: 'wait', required: false, enum: ['ack', 'result'] })
  async amend(@Body() dto: AmendOrderDto, @Query('wait') wait: unknown): Promise<unknown> {
    return this.orders.amend(dto, waitFlag(wait));
  }

  @Post('cancel-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel all open orders of the trader, in one market or everywhere (signed CancelAll)' })
  async cancelAll(@Body() dto: CancelAllDto): Promise<unknown> {
    return this.orders.cancelAll(dto);
  }

  @Get('open')
  @ApiOperation({ summary: "The trader's open orders (as of the events this gateway has consumed)" })
  @ApiHeader(AUTH_HEADERS[0]!)
  @ApiHeader(AUTH_HEADERS[1]!)
  @ApiHeader(AUTH_HEADERS[2]!)
  @ApiHeader(AUTH_HEADERS[3]!)
  @ApiQuery({ name: 'market', required: false })
  open(@Headers() h: Record<string, unknown>, @ValidQuery(MARKET_QUERY) { market }: QueryValues<typeof MARKET_QUERY>): unknown {
    return { orders: this.orders.openOrders(this.session(h), market) };
  }

  @Get('closed')
  @ApiOperation({
    summary: "The trader's finished orders (filled, canceled, expired, rejected): the newest `limit`, oldest first",
    description: "From the projector's read model (the full history) together with this gateway's memory; `asOf` says which market event sequence the answer reflects and where it comes from.",
  })
  @ApiHeader(AUTH_HEADERS[0]!)
  @ApiHeader(AUTH_HEADERS[3]!)
  @ApiQuery({ name: 'market', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 500' })
  @ApiQuery({ name: 'before', required: false, description: 'only orders last updated before this engine time (ms): paging back' })
  closed(@Headers() h: Record<string, unknown>, @ValidQuery(HISTORY_QUERY) q: QueryValues<typeof HISTORY_QUERY>): Promise<unknown> {
    const session = this.session(h);
    return this.history.closedOrders(session, q, (symbol) => this.orders.closedOrders(session, symbol));
  }

  @Get('fills')
  @ApiOperation({
    summary: "The trader's fills, the newest `limit`, oldest first, each with its settlement",
    description:
      "settlement: status (pending, batched, settled, failed), batchId, txHash, gasShare (the batch's gas used / its fills) and feeShareWei, from the settlement service's tables; null when this gateway has none. From the projector's read model when configured (`asOf`), else the recent trades this gateway holds.",
  })
  @ApiHeader(AUTH_HEADERS[0]!)
  @ApiHeader(AUTH_HEADERS[3]!)
  @ApiQuery({ name: 'market', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 500' })
  @ApiQuery({ name: 'before', required: false, description: 'only fills before this engine time (ms): paging back' })
  fills(@Headers() h: Record<string, unknown>, @ValidQuery(HISTORY_QUERY) q: QueryValues<typeof HISTORY_QUERY>): Promise<unknown> {
    const session = this.session(h);
    return this.history.fills(session, q, (symbol) => this.orders.fills(session, symbol));
  }

  @Get(':market/client/:clientOrderId')
  @ApiOperation({ summary: 'One order of the trader by client order id (one this gateway does not hold comes from the read model, with asOf)' })
  @ApiHeader(AUTH_HEADERS[0]!)
  @ApiHeader(AUTH_HEADERS[3]!)
  byClientId(@Headers() h: Record<string, unknown>, @Param('market') market: string, @Param('clientOrderId') clientOrderId: string, @ValidQuery({}) _q: unknown): Promise<unknown> {
    const session = this.session(h);
    return this.history.orderByClientId(session, market, clientOrderId, () => this.orders.order(session, market, { clientOrderId }));
  }

  @Get(':market/:orderId')
  @ApiOperation({ summary: 'One order of the trader by engine order id (an order this gateway no longer holds comes from the read model)' })
  @ApiHeader(AUTH_HEADERS[0]!)
  @ApiHeader(AUTH_HEADERS[3]!)
  byId(@Headers() h: Record<string, unknown>, @Param('market') market: string, @Param('orderId') orderId: string, @ValidQuery({}) _q: unknown): Promise<unknown> {
    const session = this.session(h);
    return this.history.order(session, market, orderId, () => this.orders.order(session, market, { orderId }));
  }
}
