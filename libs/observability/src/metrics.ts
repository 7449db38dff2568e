import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per process, labelled with the service. Node's default metrics keep their standard names
 * (`process_*`, `nodejs_*`, no prefix) so that the community's Node.js dashboards and alerts work unchanged.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
