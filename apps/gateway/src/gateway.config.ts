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
  /** This instance's number (0..15): part of every order id it assigns, so instances never collide. */
  GATEWAY_INSTANCE: z.coerce.number().int().min(0).max(15).default(0),
  /** Largest accepted request body. */
  GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024),
  /** Requests per IP per window, and per trader (the signing address) per window. */
  GATEWAY_RATE_WINDOW_MS: z.coerce.number().int().min(100).max(3_600_000).default(1_000),
  GATEWAY_RATE_LIMIT_IP: z.coerce.number().int().min(1).max(10_000_000).default(2_000),
  GATEWAY_RATE_LIMIT_ACCOUNT: z.coerce.number().int().min(1).max(10_000_000).default(500),
  /** Upper bound of `wait=result`: the engine's answer, or a pending answer after this long. */
  GATEWAY_WAIT_RESULT_MS: z.coerce.number().int().min(10).max(60_000).default(5_000),
  /** Orders per batch request / WebSocket batch. */
  GATEWAY_MAX_BATCH: z.coerce.number().int().min(1).max(1_000).default(50),
  /**
   * Messages a WebSocket connection may send per second before it gets RATE_LIMITED answers; a placeBatch
   * counts as one message per order it carries.
   */
  GATEWAY_WS_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).max(10_000_000).default(200),
  /** Subscriptions per WebSocket connection. */
  GATEWAY_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(10_000).default(50),
  /**
   * WebSocket book diffs of a market are merged over this window (ms): at most one diff per market per window,
   * sent at once when the market was quiet for a window. 0 = one diff per event-loop turn.
   */
  GATEWAY_BOOK_COALESCE_MS: z.coerce.number().int().min(0).max(1_000).default(10),
  /**
   * The window grows with the gateway's book subscriptions so that one diff per window to each of them stays
   * under GATEWAY_BOOK_WRITES_PER_SECOND socket writes, up to GATEWAY_BOOK_COALESCE_MAX_MS (stream/fanout-policy.ts).
   */
  GATEWAY_BOOK_COALESCE_MAX_MS: z.coerce.number().int().min(0).max(1_000).default(40),
  GATEWAY_BOOK_WRITES_PER_SECOND: z.coerce.number().int().min(1).max(10_000_000).default(40_000),
  /** A WebSocket with more unsent bytes than this is a slow consumer: closed with 4008 SLOW_CONSUMER. */
  GATEWAY_WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Furthest in the future a cancel or login signature may expire (seconds). */
  GATEWAY_MAX_AUTH_SECONDS: z.coerce.number().int().min(5).max(86_400).default(3_600),
});

export type GatewayConfig = z.infer<typeof schema>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(schema, env);
}
