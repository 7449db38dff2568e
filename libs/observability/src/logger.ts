import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs carrying the service name; LOG_LEVEL overrides the level. */
export function createLogger(service: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}
