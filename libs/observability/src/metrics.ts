import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

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

export interface SecondsSinceGaugeOptions {
  readonly name: string;
  readonly help: string;
  /** The one label, named after the key (`partition`, `shard`). */
  readonly label: string;
  /** Key -> the time (epoch ms) the seconds count from; read at every scrape, so the caller just updates it. */
  readonly since: ReadonlyMap<number | string, number>;
  readonly registers: Registry[];
  readonly now?: () => number;
}

/**
 * A gauge of the seconds since a time per key (since each partition's or shard's last snapshot), computed at
 * scrape time: it grows while nothing happens, which is what an alert on a stalled snapshot needs, and a key
 * removed from `since` leaves the output.
 */
export function secondsSinceGauge(o: SecondsSinceGaugeOptions): Gauge {
  const now = o.now ?? Date.now;
  return new Gauge({
    name: o.name,
    help: o.help,
    labelNames: [o.label],
    registers: o.registers,
    collect() {
      this.reset();
      const t = now();
      for (const [key, at] of o.since) this.set({ [o.label]: String(key) }, (t - at) / 1000);
    },
  });
}
