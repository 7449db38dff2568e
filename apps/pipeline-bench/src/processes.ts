// Child processes of a run (engines, load generator). Every one is registered so that an exit handler
// can SIGKILL whatever is still alive, whatever way the benchmark ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnEngineProcess, type EngineProcess } from '@parallax/matching-engine';

const live = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  live.clear();
}

function track(c: ChildProcess): void {
  live.add(c);
  c.on('exit', () => live.delete(c));
}

/** dist/<file> of a workspace package, found through its exported index. */
export function packageFile(pkg: string, file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.resolve(pkg)));
}

export type { EngineProcess } from '@parallax/matching-engine';

/** An engine child process, registered for the exit handler's clean-up. */
export function spawnEngine(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<EngineProcess> {
  return spawnEngineProcess(name, env, { timeoutMs, onSpawn: track });
}

/** Partitions the engine owns per its latest "partitions assigned" line after `since` (undefined if none). */
export function assignment(e: EngineProcess, since = 0): { owned: number[]; atMs: number } | undefined {
  for (let i = e.logs.length - 1; i >= 0; i--) {
    const l = e.logs[i]!;
    if (l.atMs < since) return undefined;
    if (l.entry['msg'] === 'partitions assigned') return { owned: l.entry['owned'] as number[], atMs: l.atMs };
  }
  return undefined;
}

export async function stopProcess(c: ChildProcess, graceMs = 10_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => c.once('exit', () => {
    resolve();
  }));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

export interface GeneratorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the generator's JSON report (its stdout). */
  readonly report: Promise<GeneratorReport>;
}

export interface GeneratorReport {
  readonly commands: number;
  readonly messages: number;
  readonly bytes: number;
  readonly sends: number;
  readonly elapsedSec: number;
  readonly commandsPerSec: number;
}

export function spawnGenerator(args: string[], env: Record<string, string>): GeneratorProcess {
  const child = spawn(process.execPath, [packageFile('@parallax/load-generator', 'main.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const report = new Promise<GeneratorReport>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`load generator exited with ${String(code)}\n${err}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as GeneratorReport);
      } catch {
        reject(new Error(`load generator printed no report\n${out}\n${err}`));
      }
    });
  });
  report.catch(() => undefined);
  if (child.pid === undefined) throw new Error('load generator has no pid');
  return { child, pid: child.pid, report };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
