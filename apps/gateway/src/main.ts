import { bootConfig, createLogger } from '@parallax/observability';
import { startGateway } from './bootstrap.js';
import { loadGatewayConfig } from './gateway.config.js';

const config = bootConfig('gateway', () => loadGatewayConfig());
const log = createLogger('gateway', config.LOG_LEVEL, config.LOG_FORMAT);
try {
  const { url } = await startGateway(config, log);
  log.info({ url }, 'gateway listening');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
