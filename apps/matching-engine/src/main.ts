// Process entry: `node apps/matching-engine/dist/main.js`, configured by environment variables (see
// matching-engine.config.ts). With KAFKA_BROKERS it joins the Kafka consumer group; without, it runs on a
// private embedded log (only useful alone - the single-machine mode runs engines as worker threads instead).
import { createLogger, exitWithService } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import { SERVICE } from './app/app.module.js';
import { startMatchingEngine } from './app/bootstrap.js';
import { loadMatchingEngineConfig } from './config/matching-engine.config.js';
import { createTransport } from '@parallax/microservice';

const log = createLogger(SERVICE);
let transport: Transport | undefined;
try {
  const config = loadMatchingEngineConfig();
  const t = createTransport(config, log);
  transport = t;
  if (t.kind === 'embedded') log.warn('KAFKA_BROKERS is not set: running on a private embedded log');
  const engine = await startMatchingEngine(config, t, { logger: log });
  exitWithService(log, engine, () => t.close(), 'matching engine');
} catch (err) {
  log.fatal({ err }, 'matching engine failed to start');
  await transport?.close().catch(() => undefined);
  process.exit(1);
}
