#!/usr/bin/env node
// CLI entry: node apps/market-maker/dist/main.js, configured by environment variables (docs/configuration.md).
// Starts the market maker (MM_PRIVATE_KEY), the taker (TAKER_PRIVATE_KEY) or both; SIGINT/SIGTERM cancel the
// quotes and stop.
import { bootConfig, createLogger, logSettingsFrom } from '@parallax/observability';
import { botOptionsFrom, loadBotConfig } from './bot.config.js';
import { startMarketMaker } from './bot/market-maker.js';
import { startTaker } from './bot/taker.js';

const config = bootConfig('market-maker', () => loadBotConfig());
const { logLevel, logFormat } = logSettingsFrom(config);
const log = createLogger('market-maker', logLevel, logFormat);
const { marketMaker, taker } = botOptionsFrom(config);

const running: { close(): Promise<void> }[] = [];
let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  Promise.all(running.map((r) => r.close())).then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'unclean stop');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => {
  stop('SIGINT');
});
process.on('SIGTERM', () => {
  stop('SIGTERM');
});

try {
  if (marketMaker !== undefined) running.push(await startMarketMaker(marketMaker, { logger: log.child({ bot: 'market-maker' }) }));
  if (taker !== undefined) running.push(await startTaker(taker, { logger: log.child({ bot: 'taker' }) }));
} catch (err) {
  log.fatal({ err }, 'could not start');
  await Promise.allSettled(running.map((r) => r.close()));
  process.exit(1);
}
