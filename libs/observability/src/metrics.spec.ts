import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetricsRegistry } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('labels every series with the service and prefixes default metrics', async () => {
    const registry = createMetricsRegistry('unit-test');
    const text = await registry.metrics();
    assert.match(text, /parallax_process_cpu_user_seconds_total\{service="unit-test"\}/);
  });
});
