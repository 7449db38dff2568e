// Market catalogue: which markets exist, their symbols and decimal units (edge concerns), and the in-book
// rules (MarketConfig) each engine builds its OrderBook with. Loaded once at boot and validated here.
import { MAX_ORDER_ID_SOURCES, type MarketConfig } from '@parallax/order-book';
import { z } from 'zod';
import { ContractError } from '../errors.js';
import { invalidField } from '../wire.js';

export interface MarketDefinition {
  /** Positive safe integer; markets are numbered densely from 1 (see partitionForMarket). */
  readonly marketId: number;
  /** Unique, e.g. "ETH-USDC". */
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** Price of one tick as a positive decimal string (e.g. "0.01"). */
  readonly tickSize: string;
  /** Size of one lot as a positive decimal string (e.g. "0.001"). */
  readonly lotSize: string;
  /** In-book rules; config.marketId equals marketId. */
  readonly config: MarketConfig;
}

const MAX_MARKETS = 100_000;

const uint = z.int().min(0, 'must be >= 0');
const positiveDecimal = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?$/, 'must be a plain decimal string like "0.01"')
  .refine((s) => /[1-9]/.test(s), 'must be greater than zero');

const configSchema = z.strictObject({
  // Optional in catalogue files: defaults to the market's id.
  marketId: z.int().min(1).optional(),
  minSize: uint,
  minNotional: uint,
  maxOpenOrdersPerAccount: uint,
  priceBandBps: uint.max(10_000, 'must be at most 10000 (100%)'),
  initialReferencePrice: uint,
  // Safety rules of the book (see libs/order-book README, "Market rules"); absent = off.
  maxTimestampStep: uint.optional(),
  uniqueOrderIds: z.boolean().optional(),
  // Absent (and uniqueOrderIds absent): the matching engine's default, one source per id-minting writer.
  orderIdSources: uint.max(MAX_ORDER_ID_SOURCES, `must be at most ${MAX_ORDER_ID_SOURCES}`).optional(),
});

const marketSchema = z
  .strictObject({
    marketId: z.int().min(1, 'must be a positive integer'),
    symbol: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$/, 'must be 1..32 chars of [A-Za-z0-9._/-]'),
    baseAsset: z.string().regex(/^[A-Za-z0-9.]{1,16}$/, 'must be 1..16 chars of [A-Za-z0-9.]'),
    quoteAsset: z.string().regex(/^[A-Za-z0-9.]{1,16}$/, 'must be 1..16 chars of [A-Za-z0-9.]'),
    tickSize: positiveDecimal,
    lotSize: positiveDecimal,
    config: configSchema,
  })
  .superRefine((m, ctx) => {
    if (m.config.marketId !== undefined && m.config.marketId !== m.marketId) {
      ctx.addIssue({ code: 'custom', path: ['config', 'marketId'], message: `must equal marketId ${m.marketId}` });
    }
    if (m.baseAsset === m.quoteAsset) ctx.addIssue({ code: 'custom', path: ['quoteAsset'], message: 'must differ from baseAsset' });
  });

const catalogueSchema = z
  .strictObject({ markets: z.array(marketSchema).min(1, 'must list at least one market').max(MAX_MARKETS) })
  .superRefine((c, ctx) => {
    const ids = new Map<number, number>();
    const symbols = new Map<string, number>();
    c.markets.forEach((m, i) => {
      const id = ids.get(m.marketId);
      if (id !== undefined) ctx.addIssue({ code: 'custom', path: ['markets', i, 'marketId'], message: `duplicate marketId (also markets[${id}])` });
      ids.set(m.marketId, i);
      const s = symbols.get(m.symbol);
      if (s !== undefined) ctx.addIssue({ code: 'custom', path: ['markets', i, 'symbol'], message: `duplicate symbol (also markets[${s}])` });
      symbols.set(m.symbol, i);
    });
  });

function validate(input: unknown): MarketDefinition[] {
  const r = catalogueSchema.safeParse(input);
  if (!r.success) throw new ContractError('INVALID_FIELD', `invalid market catalogue:\n${z.prettifyError(r.error)}`);
  return r.data.markets.map((m) =>
    Object.freeze({
      marketId: m.marketId,
      symbol: m.symbol,
      baseAsset: m.baseAsset,
      quoteAsset: m.quoteAsset,
      tickSize: m.tickSize,
      lotSize: m.lotSize,
      config: Object.freeze({
        marketId: m.marketId,
        minSize: m.config.minSize,
        minNotional: m.config.minNotional,
        maxOpenOrdersPerAccount: m.config.maxOpenOrdersPerAccount,
        priceBandBps: m.config.priceBandBps,
        initialReferencePrice: m.config.initialReferencePrice,
        ...(m.config.maxTimestampStep === undefined ? {} : { maxTimestampStep: m.config.maxTimestampStep }),
        ...(m.config.uniqueOrderIds === undefined ? {} : { uniqueOrderIds: m.config.uniqueOrderIds }),
        ...(m.config.orderIdSources === undefined ? {} : { orderIdSources: m.config.orderIdSources }),
      }),
    }),
  );
}

/** Validated, immutable set of markets, sorted by marketId. */
export class MarketCatalogue {
  private readonly byId = new Map<number, MarketDefinition>();
  private readonly symbols = new Map<string, MarketDefinition>();
  private readonly list: readonly MarketDefinition[];

  /** Throws ContractError('INVALID_FIELD') naming every offending field. */
  constructor(markets: readonly MarketDefinition[]) {
    const defs = validate({ markets }).sort((a, b) => a.marketId - b.marketId);
    for (const m of defs) {
      this.byId.set(m.marketId, m);
      this.symbols.set(m.symbol, m);
    }
    this.list = Object.freeze(defs);
  }

  get(marketId: number): MarketDefinition | undefined {
    return this.byId.get(marketId);
  }

  /** Like get, but throws ContractError('UNKNOWN_MARKET'). */
  getOrThrow(marketId: number): MarketDefinition {
    const m = this.byId.get(marketId);
    if (m === undefined) throw new ContractError('UNKNOWN_MARKET', `market ${String(marketId)} is not in the catalogue`);
    return m;
  }

  has(marketId: number): boolean {
    return this.byId.has(marketId);
  }

  bySymbol(symbol: string): MarketDefinition | undefined {
    return this.symbols.get(symbol);
  }

  /** All markets, by ascending marketId. */
  all(): readonly MarketDefinition[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /** The catalogue file form ({ "markets": [...] }) that parseMarketCatalogue reads back. */
  toJSON(): { markets: readonly MarketDefinition[] } {
    return { markets: this.list };
  }
}

/**
 * Parses a catalogue file: `{ "markets": [MarketDefinition, ...] }` or a bare array of them (config.marketId
 * may be omitted). Throws ContractError: MALFORMED_MESSAGE for invalid JSON, INVALID_FIELD (with every
 * offending path) for a schema violation, a duplicate marketId or symbol.
 */
export function parseMarketCatalogue(json: string): MarketCatalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(json) as unknown;
  } catch (e) {
    throw new ContractError('MALFORMED_MESSAGE', `market catalogue is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new MarketCatalogue(validate(Array.isArray(raw) ? { markets: raw } : raw));
}

/**
 * Deterministic catalogue for load tests and single-machine mode: markets 1..count named M<id>-USDC,
 * tick 0.01, lot 0.001, and no in-book limits (no minimums, no price band, unlimited open orders).
 */
export function defaultMarkets(count: number): MarketDefinition[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_MARKETS) invalidField('count', count, `an integer in 1..${MAX_MARKETS}`);
  const out: MarketDefinition[] = [];
  for (let id = 1; id <= count; id++) {
    out.push(
      Object.freeze({
        marketId: id,
        symbol: `M${id}-USDC`,
        baseAsset: `M${id}`,
        quoteAsset: 'USDC',
        tickSize: '0.01',
        lotSize: '0.001',
        config: Object.freeze({
          marketId: id,
          minSize: 0,
          minNotional: 0,
          maxOpenOrdersPerAccount: 0,
          priceBandBps: 0,
          initialReferencePrice: 0,
        }),
      }),
    );
  }
  return out;
}
