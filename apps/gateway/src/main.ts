// A gateway process: its variables (standalone.ts), a bad one stops start-up with one line naming it (exit 78).
import { bootConfig, createLogger } from '@parallax/observability';
import { loadGatewayConfig } from './gateway.config.js';
import { loadStandaloneConfig, startStandaloneGateway } from './standalone.js';

// The gateway's own settings first.
const config = bootConfig('gateway', () => loadGatewayConfig());
const standalone = bootConfig('gateway', () => loadStandaloneConfig());
const log = createLogger('gateway', config.LOG_LEVEL, config.LOG_FORMAT);
try {
  const { url, metricsUrl, transport, database } = await startStandaloneGateway(config, standalone, { logger: log });
  log.info({ url, metricsUrl, transport: transport.kind, readModels: database ? 'PostgreSQL' : 'memory only' }, 'gateway listening');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
