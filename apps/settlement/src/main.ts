// Process entry: `node apps/settlement/dist/main.js`, configured by environment variables (see
// settlement.config.ts). With KAFKA_BROKERS it joins the settlement consumer group on Kafka.
import { runService } from '@parallax/microservice';
import { SERVICE } from './app/app.module.js';
import { startSettlement } from './app/bootstrap.js';
import { loadSettlementConfig } from './config/settlement.config.js';

await runService({
  service: SERVICE,
  what: 'settlement',
  loadConfig: () => loadSettlementConfig(),
  start: (config, transport, logger) => startSettlement(config, transport, { logger }),
});
