import { Controller, DefaultValuePipe, Get, Inject, Param, ParseIntPipe, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { bookChecksum } from '@parallax/sdk';
import { ApiError } from '../errors/api.errors.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { HistoryService } from '../history/history.service.js';
import { MarketDataService } from '../market-data/market-data.service.js';
import { MarketDirectory, type ApiMarket } from './market-directory.js';

const INTERVALS: Readonly<Record<string, number>> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000 };

/** An integer query parameter whose error names the parameter. */
const int = (field: string): ParseIntPipe => new ParseIntPipe({ exceptionFactory: () => new ApiError('INVALID_FIELD', `${field} must be an integer`) });

export function bounded(v: number, min: number, max: number, field: string): number {
  if (v < min || v > max) throw new ApiError('INVALID_FIELD', `${field} must be in ${min}..${max}`);
  return v;
}

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
  @ApiOperation({ summary: 'Markets with tick and lot sizes, minimums, fees and status' })
  list(): unknown {
    return {
      markets: this.markets.all().map((m) => ({
        symbol: m.def.symbol,
        marketId: m.def.marketId,
        base: m.def.baseAsset,
        quote: m.def.quoteAsset,
        baseToken: m.settlement.baseToken,
        quoteToken: m.settlement.quoteToken,
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
  @ApiQuery({ name: 'depth', required: false, example: 50 })
  book(@Param('symbol') symbol: string, @Query('depth', new DefaultValuePipe(50), int('depth')) depth: number): unknown {
    const m = this.markets.get(symbol);
    const s = this.state(m);
    const { bids, asks } = s.levels(bounded(depth, 1, 1000, 'depth'));
    const fmt = (l: [number, number][]): [string, string][] => l.map(([p, q]) => [m.units.ticksToPrice(p), m.units.lotsToSize(q)]);
    const b = fmt(bids);
    const a = fmt(asks);
    return { market: m.def.symbol, seq: s.bookSeq, bids: b, asks: a, checksum: bookChecksum(b, a) };
  }

  @Get(':symbol/trades')
  @ApiOperation({ summary: 'Public trades, newest last: the recent ones, or with `before` (a trade id = its sequence) older ones from the read model; `asOf` says how fresh' })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  @ApiQuery({ name: 'before', required: false, description: 'only trades with a smaller id (sequence): paging back' })
  trades(@Param('symbol') symbol: string, @Query('limit', new DefaultValuePipe(100), int('limit')) limit: number, @Query('before') before: unknown): Promise<unknown> {
    const m = this.markets.get(symbol);
    this.state(m);
    return this.history.trades(m, bounded(limit, 1, 1000, 'limit'), before).then((r) => ({ market: m.def.symbol, ...r }));
  }

  @Get(':symbol/candles')
  @ApiOperation({ summary: "OHLCV candles (1m, 5m, 15m, 1h, 4h, 1d): this gateway's recent ones, or the read model's where they do not reach back to `since`; `asOf` says how fresh" })
  @ApiQuery({ name: 'interval', required: false, enum: Object.keys(INTERVALS) })
  @ApiQuery({ name: 'since', required: false, description: 'ms timestamp' })
  @ApiQuery({ name: 'limit', required: false })
  async candles(
    @Param('symbol') symbol: string,
    @Query('interval', new DefaultValuePipe('1m')) interval: string,
    @Query('since', new DefaultValuePipe(0), int('since')) since: number,
    @Query('limit', new DefaultValuePipe(500), int('limit')) limit: number,
  ): Promise<unknown> {
    const m = this.markets.get(symbol);
    const period = typeof interval === 'string' ? INTERVALS[interval] : undefined;
    if (period === undefined) throw new ApiError('INVALID_FIELD', `interval must be one of ${Object.keys(INTERVALS).join(', ')}`);
    const s = this.state(m);
    const from = bounded(since, 0, Number.MAX_SAFE_INTEGER, 'since');
    const n = bounded(limit, 1, 5000, 'limit');
    const { candles: rows, asOf } = await this.history.candles(m, period, from, n, () => s.candlesOf(period, from, n));
    return {
      market: m.def.symbol,
      interval,
      // CCXT's OHLCV row: [timestamp, open, high, low, close, volume].
      candles: rows.map((c) => [c.start, m.units.ticksToPrice(c.open), m.units.ticksToPrice(c.high), m.units.ticksToPrice(c.low), m.units.ticksToPrice(c.close), m.units.lotsToSize(c.volume)]),
      asOf,
    };
  }

  @Get(':symbol/ticker')
  @ApiOperation({ summary: 'Best bid and ask, last price and 24h volume' })
  ticker(@Param('symbol') symbol: string): unknown {
    const m = this.markets.get(symbol);
    const s = this.state(m);
    const { bids, asks } = s.levels(1);
    const last = s.trades.at(-1);
    const since = (last?.ts ?? 0) - 86_400_000;
    let volume = 0;
    for (const c of s.candles) if (c.start >= since) volume += c.volume;
    return {
      market: m.def.symbol,
      seq: s.seq,
      bid: bids[0] === undefined ? null : m.units.ticksToPrice(bids[0][0]),
      bidVolume: bids[0] === undefined ? null : m.units.lotsToSize(bids[0][1]),
      ask: asks[0] === undefined ? null : m.units.ticksToPrice(asks[0][0]),
      askVolume: asks[0] === undefined ? null : m.units.lotsToSize(asks[0][1]),
      last: last === undefined ? null : m.units.ticksToPrice(last.price),
      baseVolume: m.units.lotsToSize(volume),
      timestamp: last?.ts ?? null,
    };
  }
}
