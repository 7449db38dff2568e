// One book on one workload shape, nothing else in the timed passes: the run to put under a profiler, so
// that a profile shows the book and not the other books of book.bench.js.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof libs/order-book/dist/bench/profile.js --shape normal --book parallax
//   options: --shape normal|deep|active (default normal)  --book parallax|plain (default parallax)
//            --ops N (default 1,000,000)  --passes N (default 4)  --seed S
//
// The workload is generated first (it shows in the profile as generateWorkload and the PRNG); each pass
// replays it on a fresh book and prints its rate. Exits non-zero if a pass does not reproduce the model.

import { checkRun } from './checks.js';
import { ParallaxRunner } from './parallax-runner.js';
import { PlainRunner } from './plain-runner.js';
import type { BookRunner } from './runner.js';
import { int, rate } from './stats.js';
import { SHAPES, generateWorkload } from './workload.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function count(name: string, fallback: number): number {
  const v = Number(option(name, String(fallback)).replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`);
  return v;
}

const shape = SHAPES.find((s) => s.name === option('--shape', 'normal'));
if (shape === undefined) throw new Error(`unknown --shape (${SHAPES.map((s) => s.name).join(', ')})`);
const bookName = option('--book', 'parallax');
const runner: BookRunner = bookName === 'plain' ? new PlainRunner() : bookName === 'parallax' ? new ParallaxRunner() : (() => {
  throw new Error('--book must be parallax or plain');
})();
const ops = count('--ops', 1_000_000);
const passes = count('--passes', 4);
const w = generateWorkload(count('--seed', 20261124), ops, shape.params);
let failed = false;
for (let p = 0; p < passes; p++) {
  runner.reset();
  const t0 = performance.now();
  runner.run(w, 0, w.count);
  const ms = performance.now() - t0;
  const failures = checkRun(runner.name, runner.result(), w);
  failed ||= failures.length > 0;
  console.log(`${runner.name} on ${shape.name}, pass ${p + 1}/${passes}: ${rate((w.count * 1000) / ms)} ops/s over ${int(w.count)} operations${failures.length > 0 ? `; FAILED: ${failures.join('; ')}` : ''}`);
}
process.exitCode = failed ? 1 : 0;
