import { createLogger } from '@parallax/observability';
import { startGateway } from './bootstrap.js';
import { loadGatewayConfig } from './gateway.config.js';

const log = createLogger('gateway');
try {
  const { url } = await startGateway(loadGatewayConfig());
  log.info({ url }, 'gateway listening');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
