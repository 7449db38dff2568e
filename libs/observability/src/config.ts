import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logger.js';

/** Thrown at boot when the environment does not describe a valid configuration. Names every bad variable. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: readonly string[]) {
    // One line: it is what an operator sees in `kubectl logs` or a terminal, and what they grep for.
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates environment variables into one typed object. The schema's keys are the variable names, so an error
 * message names the variable a person has to fix.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  // The variable is the first path element; deeper elements (an item of a list) are for the message to name.
  const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? String(issue.path[0]) : '(environment)'}: ${issue.message}`);
  throw new ConfigError(problems);
}

/** Exit status of a process refused at boot for its configuration (sysexits.h EX_CONFIG). */
export const EXIT_INVALID_CONFIG = 78;

/**
 * Runs a service's config loader at the top of its entry point. A ConfigError ends the process at once with one
 * line on stderr, `<service>: invalid configuration: VARIABLE: problem[; ...]`, and exit status 78: no stack
 * trace, no logger (whose own settings may be what is wrong). Any other error is rethrown.
 */
export function bootConfig<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) exitForConfig(service, err);
    throw err;
  }
}

/** The boot-time refusal itself (also for a ConfigError found later in start-up, e.g. a topic's partition count). */
export function exitForConfig(service: string, err: ConfigError): never {
  process.stderr.write(`${service}: ${err.message}\n`);
  process.exit(EXIT_INVALID_CONFIG);
}

/** A TCP port number, 1..65535. */
const port = (s: string): boolean => /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65_535;

/**
 * KAFKA_BROKERS as every service reads it: a comma-separated host:port list, or unset / empty for the
 * embedded log (single-machine mode). Checked here so that a typo stops start-up instead of surfacing as a
 * connection timeout later.
 */
export function optionalBrokerList() {
  return z
    .string()
    .trim()
    .optional()
    .transform((s) => (s === undefined || s === '' ? undefined : s.split(',').map((b) => b.trim())))
    .pipe(
      z
        .array(
          z.string().refine(
            (b) => {
              const colon = b.lastIndexOf(':');
              return colon > 0 && !/[\s/]/.test(b) && port(b.slice(colon + 1));
            },
            { error: (issue) => `${JSON.stringify(issue.input)} is not host:port (port 1-65535); a list is comma-separated` },
          ),
        )
        .optional(),
    );
}

/** LOG_LEVEL and LOG_FORMAT, to spread into a service's zod schema (see logSettingsFrom). */
export function logEnvShape() {
  return {
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    LOG_FORMAT: z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(', ')}` }).default('auto'),
  };
}

export interface LogSettings {
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

export function logSettingsFrom(e: { readonly LOG_LEVEL: LogLevel; readonly LOG_FORMAT: LogFormat }): LogSettings {
  return { logLevel: e.LOG_LEVEL, logFormat: e.LOG_FORMAT };
}
