import { createLogger, exitWithService, type Logger, type StoppableService } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import type { KafkaClientSettings } from './kafka-env.js';
import { createTransport } from './transport.factory.js';

export interface ServiceEntry<C extends KafkaClientSettings> {
  /** Logger name (the service's SERVICE constant). */
  readonly service: string;
  /** How logs name it: "<what> stopped", "<what> failed to start". */
  readonly what: string;
  /** Reads and validates the environment (throws ConfigError). */
  loadConfig(): C;
  start(config: C, transport: Transport, log: Logger): Promise<StoppableService>;
}

/**
 * A service's process entry: config from the environment, the transport it selects (a warning when that is a
 * private embedded log), start, then exitWithService. A failed start is logged as fatal, closes what was opened
 * and exits 1.
 */
export async function runService<C extends KafkaClientSettings>(entry: ServiceEntry<C>): Promise<void> {
  const log = createLogger(entry.service);
  let transport: Transport | undefined;
  try {
    const config = entry.loadConfig();
    const t = createTransport(config, log);
    transport = t;
    if (t.kind === 'embedded') log.warn('KAFKA_BROKERS is not set: running on a private embedded log');
    const service = await entry.start(config, t, log);
    exitWithService(log, service, () => t.close(), entry.what);
  } catch (err) {
    log.fatal({ err }, `${entry.what} failed to start`);
    await transport?.close().catch(() => undefined);
    process.exit(1);
  }
}
