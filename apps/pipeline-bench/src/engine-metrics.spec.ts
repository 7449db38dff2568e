import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketsSince, histogramBuckets, quantileMs } from './engine-metrics.js';

const scrape = (counts: readonly number[]): string =>
  ['# TYPE x_seconds histogram', ...[0.01, 0.1, 1].map((le, i) => `x_seconds_bucket{le="${le}",service="e"} ${counts[i]}`), `x_seconds_bucket{le="+Inf",service="e"} ${counts[3]}`, 'x_seconds_count 0'].join('\n');

describe('engine histogram quantiles', () => {
  it('reads cumulative buckets and takes a quantile as the upper bound of its bucket, in ms', () => {
    const b = histogramBuckets(scrape([10, 90, 100, 100]), 'x_seconds');
    assert.deepEqual(b, [[0.01, 10], [0.1, 90], [1, 100], [Infinity, 100]]);
    assert.equal(quantileMs(b, 0.5), 100);
    assert.equal(quantileMs(b, 0.99), 1000);
    assert.ok(Number.isNaN(quantileMs(histogramBuckets('', 'x_seconds'), 0.5)));
  });

  it('takes quantiles over what was observed between two scrapes only', () => {
    const before = histogramBuckets(scrape([0, 0, 100, 100]), 'x_seconds');
    const after = histogramBuckets(scrape([50, 100, 200, 200]), 'x_seconds');
    const phase = bucketsSince(after, before);
    assert.deepEqual(phase, [[0.01, 50], [0.1, 100], [1, 100], [Infinity, 100]]);
    assert.equal(quantileMs(phase, 0.5), 10);
    assert.equal(quantileMs(phase, 0.99), 100);
  });
});
