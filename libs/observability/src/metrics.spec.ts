import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createMetricsRegistry, secondsSinceGauge } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('labels every series with the service and keeps the standard names of Node default metrics', async () => {
    const registry = createMetricsRegistry('unit-test');
    const text = await registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total\{service="unit-test"\}/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds\{service="unit-test"\}/m);
    assert.doesNotMatch(text, /parallax_process_|parallax_nodejs_/);
  });
});

describe('secondsSinceGauge', () => {
  it('reports the seconds since each key\'s time at scrape time, and drops keys that left the map', async () => {
    const registry = new Registry();
    const since = new Map<number, number>([
      [0, 1_000],
      [3, 4_500],
    ]);
    let now = 5_000;
    secondsSinceGauge({ name: 'test_age_seconds', help: 'age', label: 'partition', since, registers: [registry], now: () => now });
    const scrape = async () => (await registry.getSingleMetricAsString('test_age_seconds')).split('\n').filter((l) => !l.startsWith('#'));
    assert.deepEqual(await scrape(), ['test_age_seconds{partition="0"} 4', 'test_age_seconds{partition="3"} 0.5']);
    now = 7_000;
    since.delete(0);
    assert.deepEqual(await scrape(), ['test_age_seconds{partition="3"} 2.5']);
  });
});
