import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportedNames, metricsInQuery } from './metric-names.js';

describe('metric names in PromQL and on /metrics pages', () => {
  it('finds the metrics a query reads, not its functions, labels, keywords or windows', () => {
    const q =
      '(max by (instance) (parallax_settlement_oldest_waiting_fill_seconds) > 600) and on (instance) (changes(parallax_settlement_last_confirmed_batch_id[15m]) == 0)';
    assert.deepEqual([...metricsInQuery(q)].sort(), ['parallax_settlement_last_confirmed_batch_id', 'parallax_settlement_oldest_waiting_fill_seconds']);
    assert.deepEqual([...metricsInQuery('histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="a",le!="+Inf"}[$__rate_interval])))')], ['x_bucket']);
    assert.deepEqual([...metricsInQuery('absent(up{job="matching-engine"} == 1)')], ['up']);
    assert.deepEqual([...metricsInQuery('sum(a) / sum(b offset 5m) > bool 1e3')].sort(), ['a', 'b']);
  });

  it('reads the names a page exports from its TYPE lines, with histogram series', () => {
    const page = ['# HELP h help', '# TYPE h histogram', '# TYPE c counter', 'c_total 1', '# TYPE g gauge'].join('\n');
    assert.deepEqual([...exportedNames(page)].sort(), ['c', 'g', 'h', 'h_bucket', 'h_count', 'h_sum']);
  });
});
