import { isatty } from 'node:tty';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** auto: human-readable lines when stdout is a terminal, JSON lines when it is piped or collected. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Whether stdout (fd 1) is a terminal; asked of the descriptor, so a worker thread gets its process's answer. */
const stdoutIsTerminal = (): boolean => isatty(1);

/** Whether `format` means pretty output in this process. */
export function isPrettyFormat(format: LogFormat): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTerminal());
}

/**
 * Structured logs carrying the service name: JSON lines (what collectors and the launchers parse), or
 * pino-pretty's coloured lines for a person at a terminal. Pretty output is written synchronously in this
 * thread (no transport worker), so a fatal line is on screen before the process exits.
 */
export function createLogger(service: string, level: LogLevel = 'info', format: LogFormat = 'json'): Logger {
  const options = { name: service, level, base: { service } };
  if (!isPrettyFormat(format)) return pino(options);
  return pino(options, pretty({ sync: true, colorize: stdoutIsTerminal(), ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }));
}
