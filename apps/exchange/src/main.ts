// `npm start` runs this: the whole exchange on one machine (see exchange.ts).
import { bootConfig, createLogger } from '@parallax/observability';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange } from './exchange.js';

const config = bootConfig('exchange', () => loadExchangeConfig());
const logger = createLogger('exchange', config.LOG_LEVEL, config.LOG_FORMAT);
try {
  const exchange = await startExchange(config, logger);
  logger.info(
    { mode: exchange.mode, gateway: exchange.gatewayUrl, engines: exchange.engineUrls, chain: exchange.chain },
    'Parallax is running (Ctrl-C stops it)',
  );
  let stopping = false;
  const stop = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    void exchange.close().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => {
    stop('SIGINT', 0);
  });
  process.on('SIGTERM', () => {
    stop('SIGTERM', 0);
  });
  void exchange.failed.then((err) => {
    logger.fatal({ err }, 'a component stopped');
    stop('component failure', 1);
  });
} catch (err) {
  logger.fatal({ err }, 'Parallax failed to start');
  process.exit(1);
}
