// Process entry: `node apps/risk/dist/main.js`, configured by environment variables (risk.config.ts). With
// KAFKA_BROKERS it joins the shards' consumer group; without, it runs on a private embedded log.
import { runService } from '@parallax/microservice';
import { SERVICE, startRisk } from './app/risk.app.js';
import { loadRiskConfig } from './config/risk.config.js';

await runService({
  service: SERVICE,
  what: 'risk shards',
  loadConfig: () => loadRiskConfig(),
  start: (config, transport, logger) => startRisk(config, transport, { logger }),
});
