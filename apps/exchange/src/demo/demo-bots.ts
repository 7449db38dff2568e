// The demo's traders: the reference market maker quoting every market and the taker bot trading against it,
// both through the gateway's public API only (they are apps/market-maker, started in this process).
import { startMarketMaker, startTaker } from '@parallax/market-maker';
import type { MarketDefinition } from '@parallax/contracts';
import type { Logger } from '@parallax/observability';
import type { DemoAccounts } from './demo-accounts.js';
import { demoStartPrices } from './demo-markets.js';

export interface DemoBotOptions {
  readonly gatewayUrl: string;
  readonly accounts: DemoAccounts;
  readonly markets: readonly MarketDefinition[];
  /** The taker's orders per second; 0 = no taker. */
  readonly takerRate: number;
  /** Levels per side of the market maker's ladder. */
  readonly levels: number;
}

export interface RunningDemoBots {
  readonly marketMakerMetricsUrl: string | undefined;
  readonly takerMetricsUrl: string | undefined;
  /** Cancels the market maker's quotes and stops both bots (the taker first). */
  close(): Promise<void>;
}

/** Starts the market maker, and once it quotes the taker: orders then find liquidity from the first one. */
export async function startDemoBots(options: DemoBotOptions, logger: Logger): Promise<RunningDemoBots> {
  const symbols = options.markets.map((m) => m.symbol);
  const mm = await startMarketMaker(
    {
      gatewayUrl: options.gatewayUrl,
      // The wallet's key signs until the SDK signs with the authorized trading key (apps/market-maker's signer seam).
      privateKey: options.accounts.marketMaker.privateKey,
      markets: symbols,
      quoting: { levels: options.levels },
      startPrice: demoStartPrices(options.markets),
      metricsPort: 0,
    },
    { logger: logger.child({ service: 'market-maker' }) },
  );
  try {
    const taker =
      options.takerRate === 0
        ? undefined
        : await startTaker(
            { gatewayUrl: options.gatewayUrl, privateKey: options.accounts.taker.privateKey, markets: symbols, ratePerSecond: options.takerRate, metricsPort: 0 },
            { logger: logger.child({ service: 'taker' }) },
          );
    let closing: Promise<void> | undefined;
    return {
      marketMakerMetricsUrl: mm.metricsUrl,
      takerMetricsUrl: taker?.metricsUrl,
      close: () =>
        (closing ??= (async () => {
          await taker?.close();
          await mm.close();
        })()),
    };
  } catch (err) {
    await mm.close();
    throw err;
  }
}
