import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetricsRegistry } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('labels every series with the service and keeps the standard names of Node default metrics', async () => {
    const registry = createMetricsRegistry('unit-test');
    const text = await registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total\{service="unit-test"\}/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds\{service="unit-test"\}/m);
    assert.doesNotMatch(text, /parallax_process_|parallax_nodejs_/);
  });
});
