import { startServiceWorker, type ServiceWorker, type ServiceWorkerData, type ServiceWorkerMessage } from '@parallax/microservice';
import type { EmbeddedTransport } from '@parallax/transport';

/** What the main thread hands a risk worker (environment variables as in main.ts). */
export type RiskWorkerData = ServiceWorkerData;
export type RiskWorkerMessage = ServiceWorkerMessage;
export type RiskWorker = ServiceWorker;

/**
 * Starts a risk instance (account shards) in a worker thread on the embedded log owned by this thread
 * (single-machine mode), the same shape as startEngineWorker. `env` configures it like main.ts's environment
 * (RISK_MARKETS_FILE required; give each worker its own RISK_HTTP_PORT, or 0). Terminating the worker is a
 * crash as seen by the group: its shards are rebalanced to the other members, which restore them.
 */
export function startRiskWorker(log: EmbeddedTransport, env: Readonly<Record<string, string>>): Promise<RiskWorker> {
  return startServiceWorker(new URL('./risk.worker.js', import.meta.url), 'risk', log, env);
}
