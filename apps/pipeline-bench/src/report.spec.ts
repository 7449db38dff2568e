import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from './cli.js';
import { emptyStats } from './engine-metrics.js';
import { median, pacedLayouts, renderSection } from './report.js';
import type { ScenarioResult } from './result.js';

function paced(partitions: number, p99Ms: number, repeat: number, extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    name: 'paced',
    transport: 'kafka',
    markets: 16,
    partitions,
    engines: 2,
    rate: 50_000,
    commands: 900_000,
    inputMessages: 45_000,
    eventBatches: 45_000,
    eventBytes: 1,
    engineBatch: 500,
    events: 1,
    wallSec: 18,
    commandsPerSec: 49_950,
    generatorPerSec: 49_990,
    p50Ms: 15,
    p99Ms,
    maxMs: p99Ms + 20,
    warmupSec: 3,
    warmupP99Ms: 200,
    warmupMaxMs: 250,
    repeat,
    cpu: [],
    machineBusy: 0.9,
    bottleneck: '',
    engineBootMs: [],
    engineStats: emptyStats,
    problems: [],
    ...extra,
  };
}

const info = () => ({ startedAt: new Date(0), machine: 'test', loadAtStart: '0', loadAtEnd: '0', options: parseOptions([])! });
const verdict = (section: string, p: number): string => section.split('\n').find((l) => l.includes(`K=2, P=${p}:`)) ?? '';

describe('pipeline report', () => {
  it('median of odd and even counts', () => {
    assert.equal(median([52, 38, 45]), 45);
    assert.equal(median([40, 47, 48, 56]), 47.5);
    assert.equal(median([7]), 7);
  });

  it('groups the Kafka paced runs by layout, in run order, leaving other phases out', () => {
    const results = [paced(2, 40, 1), paced(2, 55, 2), paced(4, 60, 1), { ...paced(2, 1, 1), transport: 'embedded' as const }, { ...paced(2, 1, 1), name: 'max' }];
    assert.deepEqual(
      pacedLayouts(results).map((g) => [g.partitions, g.runs.map((r) => r.p99Ms)]),
      [
        [2, [40, 55]],
        [4, [60]],
      ],
    );
  });

  it('judges each layout on the median p99 of its runs, and only when every run delivered and verified', () => {
    const section = renderSection([paced(2, 44, 1), paced(2, 58, 2), paced(2, 47, 3), paced(4, 49, 1), paced(4, 57, 2), paced(4, 52, 3)], info());
    assert.match(verdict(section, 2), /\*\*met\*\* \(median p99 47 ms over 3 runs: 44, 58, 47 ms, 2 of them under 50/);
    assert.match(verdict(section, 4), /\*\*not met\*\* \(median p99 52 ms/);
    const short = renderSection([paced(2, 30, 1), paced(2, 31, 2, { commandsPerSec: 40_000 }), paced(2, 32, 3)], info());
    assert.match(verdict(short, 2), /\*\*not met\*\*.*fell short/);
    const failed = renderSection([paced(2, 30, 1, { problems: ['gap'] })], info());
    assert.match(verdict(failed, 2), /\*\*not met\*\*/);
  });
});
