// The demo's traders: the reference market maker quoting every market and the taker bot trading against it,
// both through the gateway's public API only (they are apps/market-maker, started in this process).
import { setTimeout as sleep } from 'node:timers/promises';
import { startMarketMaker, startTaker } from '@parallax/market-maker';
import type { MarketDefinition } from '@parallax/contracts';
import type { Logger } from '@parallax/observability';
import { ParallaxApiError, ParallaxClient } from '@parallax/sdk';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
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

/** How long the demo waits for the gateway to learn the trading key's on-chain authorization. */
const KEY_VISIBLE_TIMEOUT_MS = 60_000;

/**
 * Waits until the gateway accepts a login signed by `key` for `trader`. The authorization reaches the gateway
 * (and the risk shards) through the chain watcher, after its confirmation depth: a bot started before that is
 * refused with SIGNER_MISMATCH. The deposits were mined before the authorization, so they are ahead of it.
 */
export async function untilTradingKeyAccepted(gatewayUrl: string, key: Hex, trader: Address, timeoutMs = KEY_VISIBLE_TIMEOUT_MS): Promise<void> {
  const client = new ParallaxClient({ url: gatewayUrl, account: privateKeyToAccount(key), trader });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.openOrders();
      return;
    } catch (err) {
      if (!(err instanceof ParallaxApiError) || err.code !== 'SIGNER_MISMATCH' || Date.now() > deadline) throw err;
    }
    await sleep(100);
  }
}

/** Starts the market maker, and once it quotes the taker: orders then find liquidity from the first one. */
export async function startDemoBots(options: DemoBotOptions, logger: Logger): Promise<RunningDemoBots> {
  const symbols = options.markets.map((m) => m.symbol);
  await untilTradingKeyAccepted(options.gatewayUrl, options.accounts.marketMakerTradingKey.privateKey, options.accounts.marketMaker.address);
  const mm = await startMarketMaker(
    {
      gatewayUrl: options.gatewayUrl,
      // A bot never holds its owner's wallet key: it signs with the trading key the wallet authorized on chain
      // (fundDemoAccounts), acting for the wallet.
      privateKey: options.accounts.marketMakerTradingKey.privateKey,
      trader: options.accounts.marketMaker.address,
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
