#!/usr/bin/env node
// Measures what the README and docs/benchmarks.md say about `npm start`: the time from the command to the
// first trade and to the first settled batch (the bots on), and the idle cost with the bots off (CPU time of
// the launcher process, every one of its threads, and its children, i.e. anvil, over a window after start-up
// has settled). It runs the README's start command (`node scripts/start.mjs`) as a child, reads its JSON log
// lines, and stops it with SIGINT after each phase. Prints one JSON object per phase; nothing is written.
//
//   node scripts/measure-start.mjs [--build] [--skip-trading] [--skip-idle] [--settle S] [--idle S]
//
//   --build         include the build (as a fresh clone's `npm start` does); default: --no-build
//   --settle S      seconds to wait after the "running" block before sampling CPU (default 60: on a loaded machine
//                  V8's background compiler and GC threads are still busy with start-up 20 s after it)
//   --idle S        seconds of CPU sampling with the bots off (default 60)
//
// Linux only (reads /proc). CPU is CPU time (utime + stime), not wall-clock: other load on a shared machine
// slows the run but is not counted in it.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const num = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
};
const build = flag('--build');
const settleS = num('--settle', 60);
const idleS = num('--idle', 60);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, f, timeoutMs, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The README's start command as a child, with free ports and JSON log lines. */
function launch(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!(k.startsWith('KAFKA_') || k === 'DATABASE_URL' || k.startsWith('EXCHANGE_') || k.startsWith('LOG_'))) env[k] = v;
  }
  Object.assign(env, { GATEWAY_PORT: '0', ENGINE_HTTP_PORT_BASE: '0', SETTLEMENT_HTTP_PORT: '0', LOG_FORMAT: 'json' });
  const spawnedAt = Date.now();
  const proc = spawn(process.execPath, ['scripts/start.mjs', ...(build ? [] : ['--no-build']), ...extra], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  proc.stderr.on('data', (b) => (stderr = (stderr + b.toString()).slice(-20_000)));
  const lines = [];
  let rest = '';
  proc.stdout.on('data', (b) => {
    rest += b.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p));
      } catch {
        // build output or anything else that is not a log line
      }
    }
  });
  const ready = () =>
    until(
      'the "Parallax is running" block',
      () => {
        if (proc.exitCode !== null) throw new Error(`npm start exited ${proc.exitCode}: ${stderr}`);
        return lines.find((l) => l.msg === 'Parallax is running (Ctrl-C stops it)');
      },
      600_000,
    );
  const stop = async () => {
    proc.kill('SIGINT');
    const exit = await exited;
    if (exit.code !== 0) throw new Error(`npm start exited ${JSON.stringify(exit)} on SIGINT: ${stderr}`);
  };
  return { proc, spawnedAt, lines, ready, stop };
}

async function rpc(url, method, params) {
  const r = await globalThis.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

// lastBatchId() selector: the first 4 bytes of keccak256("lastBatchId()"), taken from the contract's ABI at run time.
async function lastBatchIdCall() {
  const { settlementAbi } = await import('@parallax/chain');
  const { toFunctionSelector } = await import('viem');
  const fn = settlementAbi.find((x) => x.type === 'function' && x.name === 'lastBatchId');
  return toFunctionSelector(fn);
}

async function trading() {
  const run = launch([]);
  const ready = await run.ready();
  const readyS = (Date.now() - run.spawnedAt) / 1000;
  const markets = ready.markets;
  const firstTradeMs = await until(
    'a trade',
    async () => {
      const ts = [];
      for (const m of markets) {
        const r = await globalThis.fetch(`${ready.gateway}/v1/markets/${m}/trades?limit=1000`);
        if (r.ok) for (const t of (await r.json()).trades) ts.push(t.timestamp);
      }
      return ts.length > 0 ? Math.min(...ts) : undefined;
    },
    180_000,
    200,
  );
  const selector = await lastBatchIdCall();
  await until('a settled batch', async () => (BigInt(await rpc(ready.chain.rpcUrl, 'eth_call', [{ to: ready.chain.settlement, data: selector }, 'latest'])) >= 1n ? true : undefined), 180_000, 100);
  const firstBatchS = (Date.now() - run.spawnedAt) / 1000;
  const steps = Object.fromEntries(run.lines.filter((l) => typeof l.step === 'string').map((l) => [l.step, l.elapsedMs]));
  await run.stop();
  return { phase: 'trading', build, readyS, firstTradeS: (firstTradeMs - run.spawnedAt) / 1000, firstBatchS, steps };
}

/** Every descendant of pid (anvil). */
function descendants(pid) {
  let out;
  try {
    out = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const kids = out.split('\n').filter((l) => l.trim() !== '').map(Number);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** CPU ticks (utime + stime) per thread of pid: tid -> { name, ticks }. */
function threadTicks(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces: fields after it are space-separated.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function sample(pids) {
  return new Map(pids.map((p) => [p, { cmd: readFileSync(`/proc/${p}/comm`, 'utf8').trim(), threads: threadTicks(p) }]));
}

async function idle() {
  const run = launch(['--no-bots']);
  const ready = await run.ready();
  await sleep(settleS * 1000);
  const pids = [run.proc.pid, ...descendants(run.proc.pid)];
  const t0 = performance.now();
  const before = sample(pids);
  await sleep(idleS * 1000);
  const after = sample(pids);
  const seconds = (performance.now() - t0) / 1000;
  const pct = (ticks) => Math.round((10_000 * ticks) / CLK_TCK / seconds) / 100;
  const processes = [];
  let total = 0;
  for (const [pid, a] of after) {
    const b = before.get(pid);
    let ticks = 0;
    const threads = [];
    for (const [tid, t] of a.threads) {
      const d = t.ticks - (b?.threads.get(tid)?.ticks ?? 0);
      ticks += d;
      if (d > 0) threads.push({ tid: Number(tid), name: t.name, cpuPercent: pct(d) });
    }
    total += ticks;
    threads.sort((x, y) => y.cpuPercent - x.cpuPercent);
    processes.push({ pid, cmd: a.cmd, cpuPercent: pct(ticks), threads: threads.slice(0, 12) });
  }
  await run.stop();
  return { phase: 'idle', bots: false, settleS, windowS: Math.round(seconds * 10) / 10, cpuPercentOfOneCore: pct(total), processes, gateway: ready.gateway };
}

if (!flag('--skip-trading')) console.log(JSON.stringify(await trading()));
if (!flag('--skip-idle')) console.log(JSON.stringify(await idle()));
