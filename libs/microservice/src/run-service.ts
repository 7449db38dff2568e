import {
  bootConfig,
  ConfigError,
  createLogger,
  exitForConfig,
  exitWithService,
  type Logger,
  type LogSettings,
  type StoppableService,
} from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import type { KafkaClientSettings } from './kafka-env.js';
import { createTransport } from './transport.factory.js';

export interface ServiceEntry<C extends KafkaClientSettings & LogSettings> {
  /** Logger name (the service's SERVICE constant). */
  readonly service: string;
  /** How logs name it: "<what> stopped", "<what> failed to start". */
  readonly what: string;
  /** Reads and validates the environment (throws ConfigError). */
  loadConfig(): C;
  start(config: C, transport: Transport, log: Logger): Promise<StoppableService>;
}

/**
 * A service's process entry: config from the environment (a bad value ends the process with one line naming
 * the variable, exit 78, before anything is opened), the logger it configures, the transport it selects (a
 * warning when that is a private embedded log), start, then exitWithService. A failed start is logged as
 * fatal, closes what was opened and exits 1.
 */
export async function runService<C extends KafkaClientSettings & LogSettings>(entry: ServiceEntry<C>): Promise<void> {
  const config = bootConfig(entry.service, () => entry.loadConfig());
  const log = createLogger(entry.service, config.logLevel, config.logFormat);
  let transport: Transport | undefined;
  try {
    const t = createTransport(config, log);
    transport = t;
    if (t.kind === 'embedded') log.warn('KAFKA_BROKERS is not set: running on a private embedded log');
    const service = await entry.start(config, t, log);
    exitWithService(log, service, () => t.close(), entry.what);
  } catch (err) {
    await transport?.close().catch(() => undefined);
    // A configuration problem only the running system reveals (a topic with another partition count).
    if (err instanceof ConfigError) exitForConfig(entry.service, err);
    log.fatal({ err }, `${entry.what} failed to start`);
    process.exit(1);
  }
}
