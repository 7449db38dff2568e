// Process entry: `node apps/settlement/dist/main.js`, configured by environment variables (see
// settlement.config.ts). With KAFKA_BROKERS it joins the settlement consumer group on Kafka.
import { createLogger } from '@parallax/observability';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '@parallax/transport';
import { SERVICE } from './app/app.module.js';
import { startSettlement } from './app/bootstrap.js';
import { loadSettlementConfig } from './config/settlement.config.js';

const log = createLogger(SERVICE);
let transport: Transport | undefined;
try {
  const config = loadSettlementConfig();
  const kafkaLog = log.child({ component: 'kafkajs' });
  const t =
    config.kafkaBrokers === undefined
      ? createEmbeddedTransport()
      : createKafkaTransport({
          brokers: config.kafkaBrokers,
          clientId: config.kafkaClientId,
          consumer: config.kafkaConsumer,
          log: ({ level, namespace, message, extra }) => {
            kafkaLog[level]({ namespace, ...extra }, message);
          },
        });
  transport = t;
  if (t.kind === 'embedded') log.warn('KAFKA_BROKERS is not set: running on a private embedded log');
  const service = await startSettlement(config, t, { logger: log });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    service
      .close()
      .then(() => t.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'unclean stop');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  // Crash-only: if consumption fails the process exits; a restart resumes from the database and the chain.
  service.stopped.catch((err: unknown) => {
    log.fatal({ err }, 'settlement consumer stopped');
    process.exit(1);
  });
} catch (err) {
  log.fatal({ err }, 'settlement failed to start');
  await transport?.close().catch(() => undefined);
  process.exit(1);
}
