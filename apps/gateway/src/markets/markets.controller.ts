import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { bookChecksum } from '@parallax/sdk';
import { ApiError } from '../errors/api.errors.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { HistoryService } from '../history/history.service.js';
import { MarketDataService } from '../market-data/market-data.service.js';
import { candleRow, INTERVAL_NAMES, INTERVALS, tickerOf } from '../market-data/ticker.js';
import { enumParam, intParam, ValidQuery, type QueryValues } from '../query/query-params.js';
import { MarketDirectory, type ApiMarket } from './market-directory.js';


const NONE = {};
const BOOK_QUERY = { depth: intParam(1, 1000, 50) };
const TRADES_QUERY = { limit: intParam(1, 1000, 100), before: intParam(0, Number.MAX_SAFE_INTEGER, undefined) };
const CANDLES_QUERY = { interval: enumParam(INTERVAL_NAMES, '1m'), since: intParam(0, Number.MAX_SAFE_INTEGER, 0), limit: intParam(1, 5000, 500) };

/** Public market data: what the gateway has consumed of the engine's events (field `seq` says how far). */
@ApiTags('markets')
@Controller('v1/markets')
export class MarketsController {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly markets: MarketDirectory,
    private readonly data: MarketDataService,
    private readonly history: HistoryService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Markets with tick and lot sizes, minimums, fees, status, token addresses and decimals, and the signing domain' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        markets: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              symbol: { type: 'string', example: 'M1-USDC' },
              marketId: { type: 'integer' },
              base: { type: 'string' },
              quote: { type: 'string' },
              baseToken: { type: 'string', description: 'ERC-20 address of the base token' },
              quoteToken: { type: 'string', description: 'ERC-20 address of the quote token' },
              baseDecimals: { type: 'integer', nullable: true, description: "the base token's ERC-20 decimals (balances are in token base units); null when not configured" },
              quoteDecimals: { type: 'integer', nullable: true, description: "the quote token's ERC-20 decimals" },
              tickSize: { type: 'string', description: 'price step, decimal' },
              lotSize: { type: 'string', description: 'amount step, decimal' },
              tickSizeUnits: { type: 'string', description: 'contract price units per tick (what the signed order carries)' },
              lotSizeUnits: { type: 'string', description: 'base token units per lot' },
              minAmount: { type: 'string' },
              minNotional: { type: 'string' },
              maxOpenOrdersPerAccount: { type: 'integer', description: '0 = no bound' },
              makerFeeRate: { type: 'number' },
              takerFeeRate: { type: 'number' },
              status: { type: 'string', enum: ['open'] },
            },
          },
        },
        domain: {
          type: 'object',
          description: 'the EIP-712 domain orders, cancels and logins are signed in',
          properties: { name: { type: 'string' }, version: { type: 'string' }, chainId: { type: 'integer' }, verifyingContract: { type: 'string' } },
        },
      },
    },
  })
  list(@ValidQuery(NONE) _q: unknown): unknown {
    return {
      markets: this.markets.all().map((m) => ({
        symbol: m.def.symbol,
        marketId: m.def.marketId,
        base: m.def.baseAsset,
        quote: m.def.quoteAsset,
        baseToken: m.settlement.baseToken,
        quoteToken: m.settlement.quoteToken,
        // The tokens' ERC-20 decimals: balances are in token base units (null: not configured for this gateway).
        baseDecimals: this.ctx.tokenDecimals?.get(m.settlement.baseToken.toLowerCase()) ?? null,
        quoteDecimals: this.ctx.tokenDecimals?.get(m.settlement.quoteToken.toLowerCase()) ?? null,
        tickSize: m.def.tickSize,
        lotSize: m.def.lotSize,
        // Token base units per tick (contract price units) and per lot: what the signed order carries.
        tickSizeUnits: m.settlement.tickSize.toString(),
        lotSizeUnits: m.settlement.lotSize.toString(),
        minAmount: m.units.lotsToSize(Math.max(1, m.def.config.minSize)),
        minNotional: m.units.notionalToQuote(m.def.config.minNotional),
        maxOpenOrdersPerAccount: m.def.config.maxOpenOrdersPerAccount,
        makerFeeRate: this.ctx.fees.makerFeeRate / 1_000_000,
        takerFeeRate: this.ctx.fees.takerFeeRate / 1_000_000,
        status: 'open',
      })),
      domain: { ...this.ctx.domain },
    };
  }

  private state(m: ApiMarket) {
    const s = this.data.market(m.def.marketId);
    if (s === undefined) throw new ApiError('UNKNOWN_MARKET', 'market: not served');
    return s;
  }

  @Get(':symbol/book')
  @ApiOperation({ summary: 'Depth snapshot with its book sequence number and top-of-book checksum' })
  @ApiParam({ name: 'symbol', example: 'M1-USDC' })
  @ApiQuery({ name: 'depth', required: false, example: 50, description: '1..1000' })
  book(@Param('symbol') symbol: string, @ValidQuery(BOOK_QUERY) { depth }: QueryValues<typeof BOOK_QUERY>): unknown {
    const m = this.markets.get(symbol);
    const s = this.state(m);
    const { bids, asks } = s.levels(depth);
    const fmt = (l: [number, number][]): [string, string][] => l.map(([p, q]) => [m.units.ticksToPrice(p), m.units.lotsToSize(q)]);
    const b = fmt(bids);
    const a = fmt(asks);
    return { market: m.def.symbol, seq: s.bookSeq, bids: b, asks: a, checksum: bookChecksum(b, a) };
  }

  @Get(':symbol/trades')
  @ApiOperation({ summary: 'Public trades, newest last: the recent ones, or with `before` (a trade id = its sequence) older ones from the read model; `asOf` says how fresh' })
  @ApiQuery({ name: 'limit', required: false, example: 100, description: '1..1000' })
  @ApiQuery({ name: 'before', required: false, description: 'only trades with a smaller id (sequence): paging back' })
  async trades(@Param('symbol') symbol: string, @ValidQuery(TRADES_QUERY) { limit, before }: QueryValues<typeof TRADES_QUERY>): Promise<unknown> {
    const m = this.markets.get(symbol);
    this.state(m);
    return { market: m.def.symbol, ...(await this.history.trades(m, limit, before)) };
  }

  @Get(':symbol/candles')
  @ApiOperation({ summary: "OHLCV candles (1m, 5m, 15m, 1h, 4h, 1d): this gateway's recent ones, or the read model's where they do not reach back to `since`; `asOf` says how fresh" })
  @ApiQuery({ name: 'interval', required: false, enum: INTERVAL_NAMES })
  @ApiQuery({ name: 'since', required: false, description: 'ms timestamp' })
  @ApiQuery({ name: 'limit', required: false, description: '1..5000' })
  async candles(@Param('symbol') symbol: string, @ValidQuery(CANDLES_QUERY) { interval, since, limit }: QueryValues<typeof CANDLES_QUERY>): Promise<unknown> {
    const m = this.markets.get(symbol);
    const s = this.state(m);
    const period = INTERVALS[interval];
    const { candles: rows, asOf } = await this.history.candles(m, period, since, limit, () => s.candlesOf(period, since, limit));
    return {
      market: m.def.symbol,
      interval,
      // CCXT's OHLCV row: [timestamp, open, high, low, close, volume].
      candles: rows.map((c) => candleRow(m, c)),
      asOf,
    };
  }

  @Get(':symbol/ticker')
  @ApiOperation({ summary: 'Best bid and ask, last price, and the rolling 24 h open, high, low, change and volume (also the WebSocket `ticker` channel)' })
  ticker(@Param('symbol') symbol: string, @ValidQuery(NONE) _q: unknown): unknown {
    const m = this.markets.get(symbol);
    return tickerOf(m, this.state(m), (this.ctx.clock ?? Date.now)());
  }
}
