// Process entry: `node apps/chain-watcher/dist/main.js`, configured by environment variables (see
// chain-watcher.config.ts and docs/configuration.md).
import { runService } from '@parallax/microservice';
import { SERVICE } from './app/app.module.js';
import { startChainWatcher } from './app/bootstrap.js';
import { loadChainWatcherConfig } from './config/chain-watcher.config.js';

await runService({
  service: SERVICE,
  what: 'chain watcher',
  loadConfig: () => loadChainWatcherConfig(),
  start: (config, transport, logger) => startChainWatcher(config, transport, { logger }),
});
