import { z } from 'zod';

/** Thrown at boot when the environment does not describe a valid configuration. Names every bad variable. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
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
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.') || '(environment)';
    return `${name}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/**
 * KAFKA_BROKERS as every service reads it: a comma-separated host:port list, or unset / empty for the
 * embedded log (single-machine mode).
 */
export function optionalBrokerList() {
  return z
    .string()
    .trim()
    .optional()
    .transform((s) => (s === undefined || s === '' ? undefined : s.split(',').map((b) => b.trim())))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port')).optional());
}
