import { collectDefaultMetrics, Registry } from 'prom-client';

/** Resolution of the `nodejs_eventloop_lag_*` histogram's sampling timer. */
export const EVENT_LOOP_MONITORING_MS = 100;

/**
 * One registry per process, labelled with the service. Node's default metrics keep their standard names
 * (`process_*`, `nodejs_*`, no prefix) so that the community's Node.js dashboards and alerts work unchanged.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // prom-client samples the event-loop delay with a timer of this resolution (default 10 ms): 100 wake-ups a
  // second in every registry's thread, idle or not. 100 ms still sees any stall long enough to matter.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS });
  return registry;
}
