// Process entry: `node apps/settlement/dist/main.js`, configured by environment variables (see
// settlement.config.ts). With KAFKA_BROKERS it joins the settlement consumer group on Kafka.
import { createLogger, exitWithService } from '@parallax/observability';
import { createTransport } from '@parallax/microservice';
import type { Transport } from '@parallax/transport';
import { SERVICE } from './app/app.module.js';
import { startSettlement } from './app/bootstrap.js';
import { loadSettlementConfig } from './config/settlement.config.js';

const log = createLogger(SERVICE);
let transport: Transport | undefined;
try {
  const config = loadSettlementConfig();
  const t = createTransport(config, log);
  transport = t;
  if (t.kind === 'embedded') log.warn('KAFKA_BROKERS is not set: running on a private embedded log');
  const service = await startSettlement(config, t, { logger: log });
  exitWithService(log, service, () => t.close(), 'settlement consumer');
} catch (err) {
  log.fatal({ err }, 'settlement failed to start');
  await transport?.close().catch(() => undefined);
  process.exit(1);
}
