import { z } from 'zod';
import { loadConfig, logEnvShape } from '@parallax/observability';

const schema = z.object({
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * When set, /metrics is served only on this port (for Prometheus, inside the cluster) and answers 404 on
   * GATEWAY_PORT, the public one: metrics name internals no trader needs to see.
   */
  GATEWAY_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** LOG_LEVEL, LOG_FORMAT. */
  ...logEnvShape(),
});

export type GatewayConfig = z.infer<typeof schema>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(schema, env);
}
