import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per process, labelled with the service, with Node's default process metrics under parallax_. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'parallax_' });
  return registry;
}
