import { KafkaPlumbingError } from './errors.js';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** What a service needs to reach Kafka. Build it with kafkaConfigFromEnv, then createKafka(config). */
export interface KafkaClientConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logLevel: KafkaLogLevel;
}

/** The broker scripts/kafka.sh starts (KAFKA_PORT defaults to 19092 there too). */
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:19092';

const LOG_LEVELS: readonly KafkaLogLevel[] = ['nothing', 'error', 'warn', 'info', 'debug'];
const CLIENT_ID = /^[A-Za-z0-9._-]{1,249}$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;

/**
 * Parses a comma-separated `host:port` list (IPv6 hosts in brackets). Throws KAFKA_CONFIG_INVALID naming
 * `variable` so a bad deployment stops at boot with a message that says what to fix.
 */
export function parseBrokers(value: string, variable = 'KAFKA_BROKERS'): string[] {
  const brokers = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (brokers.length === 0) throw new KafkaPlumbingError('KAFKA_CONFIG_INVALID', `${variable} is empty`);
  for (const broker of brokers) {
    const colon = broker.lastIndexOf(':');
    const host = broker.slice(0, colon);
    const port = broker.slice(colon + 1);
    const portNumber = Number(port);
    if (colon <= 0 || !HOST.test(host) || !/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) {
      throw new KafkaPlumbingError('KAFKA_CONFIG_INVALID', `${variable}: '${broker}' is not host:port (e.g. 127.0.0.1:19092)`);
    }
  }
  return brokers;
}

/**
 * Reads KAFKA_BROKERS (default 127.0.0.1:19092), KAFKA_CLIENT_ID (default `defaults.clientId` or 'parallax')
 * and KAFKA_LOG_LEVEL (nothing|error|warn|info|debug, default warn).
 */
export function kafkaConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { readonly clientId?: string; readonly brokers?: string } = {},
): KafkaClientConfig {
  const brokers = parseBrokers(env['KAFKA_BROKERS'] ?? defaults.brokers ?? DEFAULT_KAFKA_BROKERS);
  const clientId = env['KAFKA_CLIENT_ID'] ?? defaults.clientId ?? 'parallax';
  if (!CLIENT_ID.test(clientId)) {
    throw new KafkaPlumbingError('KAFKA_CONFIG_INVALID', `KAFKA_CLIENT_ID: '${clientId}' must be 1-249 of [A-Za-z0-9._-]`);
  }
  const level = (env['KAFKA_LOG_LEVEL'] ?? 'warn').toLowerCase();
  const logLevel = LOG_LEVELS.find((candidate) => candidate === level);
  if (logLevel === undefined) {
    throw new KafkaPlumbingError('KAFKA_CONFIG_INVALID', `KAFKA_LOG_LEVEL: '${level}' is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return { brokers, clientId, logLevel };
}
