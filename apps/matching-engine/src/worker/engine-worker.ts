import { startServiceWorker, type ServiceWorker, type ServiceWorkerData, type ServiceWorkerMessage } from '@parallax/microservice';
import type { EmbeddedTransport } from '@parallax/transport';

/** What the main thread hands an engine worker (environment variables as in main.ts). */
export type EngineWorkerData = ServiceWorkerData;
export type EngineWorkerMessage = ServiceWorkerMessage;
export type EngineWorker = ServiceWorker;

/**
 * Starts a matching engine in a worker thread on the embedded log owned by this thread (single-machine
 * mode). `env` configures it like main.ts's environment; give each worker its own ENGINE_HTTP_PORT (or 0).
 * Terminating the worker is a crash as seen by the group: its partitions are rebalanced to the others.
 */
export function startEngineWorker(log: EmbeddedTransport, env: Readonly<Record<string, string>>): Promise<EngineWorker> {
  return startServiceWorker(new URL('./engine.worker.js', import.meta.url), 'engine', log, env);
}
