// The bots' environment, validated at boot (docs/configuration.md lists every variable).
import { loadConfig, logEnvShape } from '@parallax/observability';
import type { Address, Hex } from 'viem';
import { z } from 'zod';
import type { MarketMakerOptions } from './bot/market-maker.js';
import type { TakerOptions } from './bot/taker.js';

// The message never repeats the value: it is a secret.
const privateKey = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, { error: 'must be 0x followed by 64 hex digits' })
  .transform((s) => s as Hex)
  .optional();
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: 'must be an address: 0x followed by 40 hex digits' })
  .transform((s) => s as Address)
  .optional();
const symbols = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.split(',').map((x) => x.trim())))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9]{1,16}-[A-Za-z0-9]{1,16}$/, { error: 'a market symbol looks like M1-USDC' })).optional());
const num = (min: number, max: number, def: number) => z.coerce.number().min(min).max(max).default(def);
const int = (min: number, max: number, def: number) => z.coerce.number().int().min(min).max(max).default(def);
const port = z.coerce.number().int().min(0).max(65_535);
const bool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((s) => s === 'true');

const schema = z
  .object({
    BOT_GATEWAY_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('http://127.0.0.1:3000'),
    MM_PRIVATE_KEY: privateKey,
    MM_TRADER: address,
    MM_MARKETS: symbols,
    MM_SPREAD_BPS: num(0, 10_000, 20),
    MM_LEVELS: int(1, 25, 5),
    MM_LEVEL_SPACING_BPS: num(0, 10_000, 10),
    MM_ORDER_SIZE: num(0, 1e12, 1).refine((n) => n > 0, { error: 'must be positive' }),
    MM_SIZE_GROWTH: num(0, 100, 0.5),
    MM_SKEW_BPS_PER_UNIT: num(0, 10_000, 2),
    MM_MAX_SKEW_BPS: num(0, 5_000, 50),
    MM_MAX_INVENTORY: num(0, 1e12, 50),
    MM_REQUOTE_BPS: num(0, 10_000, 5),
    MM_START_PRICE: num(0, 1e12, 100).refine((n) => n > 0, { error: 'must be positive' }),
    MM_REFERENCE_MIN_DEPTH: num(0, 1e12, 0),
    MM_REFERENCE_MAX_STEP_BPS: num(0, 10_000, 10),
    MM_DEADMAN_MS: int(1_000, 600_000, 5_000),
    MM_POST_ONLY: bool.default(false),
    MM_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    MM_METRICS_PORT: port.default(9470),
    TAKER_PRIVATE_KEY: privateKey,
    TAKER_TRADER: address,
    TAKER_MARKETS: symbols,
    TAKER_RATE: num(0, 1_000, 1),
    TAKER_MIN_SIZE: num(0, 1e12, 0.1).refine((n) => n > 0, { error: 'must be positive' }),
    TAKER_MAX_SIZE: num(0, 1e12, 2).refine((n) => n > 0, { error: 'must be positive' }),
    TAKER_SLIPPAGE_BPS: num(0, 5_000, 50),
    TAKER_SEED: int(0, 2 ** 31 - 1, 1),
    TAKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    TAKER_METRICS_PORT: port.default(9471),
    ...logEnvShape(),
  })
  .refine((c) => c.MM_PRIVATE_KEY !== undefined || c.TAKER_PRIVATE_KEY !== undefined, {
    path: ['MM_PRIVATE_KEY'],
    error: 'set MM_PRIVATE_KEY (market maker), TAKER_PRIVATE_KEY (taker) or both',
  })
  .refine((c) => c.TAKER_MAX_SIZE >= c.TAKER_MIN_SIZE, { path: ['TAKER_MAX_SIZE'], error: 'must be at least TAKER_MIN_SIZE' });

export type BotConfig = z.infer<typeof schema>;

export function loadBotConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  return loadConfig(schema, env);
}

/** The options of each bot the configuration asks for (undefined: that bot is off). */
export function botOptionsFrom(c: BotConfig): { marketMaker: MarketMakerOptions | undefined; taker: TakerOptions | undefined } {
  const marketMaker: MarketMakerOptions | undefined =
    c.MM_PRIVATE_KEY === undefined
      ? undefined
      : {
          gatewayUrl: c.BOT_GATEWAY_URL,
          privateKey: c.MM_PRIVATE_KEY,
          ...(c.MM_TRADER === undefined ? {} : { trader: c.MM_TRADER }),
          ...(c.MM_MARKETS === undefined ? {} : { markets: c.MM_MARKETS }),
          quoting: {
            spreadBps: c.MM_SPREAD_BPS,
            levels: c.MM_LEVELS,
            levelSpacingBps: c.MM_LEVEL_SPACING_BPS,
            size: c.MM_ORDER_SIZE,
            sizeGrowth: c.MM_SIZE_GROWTH,
            skewBpsPerUnit: c.MM_SKEW_BPS_PER_UNIT,
            maxSkewBps: c.MM_MAX_SKEW_BPS,
            maxInventory: c.MM_MAX_INVENTORY,
          },
          requoteBps: c.MM_REQUOTE_BPS,
          startPrice: c.MM_START_PRICE,
          referenceMinDepth: c.MM_REFERENCE_MIN_DEPTH,
          referenceMaxStepBps: c.MM_REFERENCE_MAX_STEP_BPS,
          deadmanMs: c.MM_DEADMAN_MS,
          postOnly: c.MM_POST_ONLY,
          metricsHost: c.MM_METRICS_HOST,
          metricsPort: c.MM_METRICS_PORT,
        };
  const taker: TakerOptions | undefined =
    c.TAKER_PRIVATE_KEY === undefined
      ? undefined
      : {
          gatewayUrl: c.BOT_GATEWAY_URL,
          privateKey: c.TAKER_PRIVATE_KEY,
          ...(c.TAKER_TRADER === undefined ? {} : { trader: c.TAKER_TRADER }),
          ...(c.TAKER_MARKETS === undefined ? {} : { markets: c.TAKER_MARKETS }),
          ratePerSecond: c.TAKER_RATE,
          minSize: c.TAKER_MIN_SIZE,
          maxSize: c.TAKER_MAX_SIZE,
          slippageBps: c.TAKER_SLIPPAGE_BPS,
          seed: c.TAKER_SEED,
          metricsHost: c.TAKER_METRICS_HOST,
          metricsPort: c.TAKER_METRICS_PORT,
        };
  return { marketMaker, taker };
}
