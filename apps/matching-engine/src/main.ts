// Process entry: `node apps/matching-engine/dist/main.js`, configured by environment variables (see
// matching-engine.config.ts). With KAFKA_BROKERS it joins the Kafka consumer group; without, it runs on a
// private embedded log (only useful alone - the single-machine mode runs engines as worker threads instead).
import { runService } from '@parallax/microservice';
import { SERVICE } from './app/app.module.js';
import { startMatchingEngine } from './app/bootstrap.js';
import { loadMatchingEngineConfig } from './config/matching-engine.config.js';

await runService({
  service: SERVICE,
  what: 'matching engine',
  loadConfig: () => loadMatchingEngineConfig(),
  start: (config, transport, logger) => startMatchingEngine(config, transport, { logger }),
});
