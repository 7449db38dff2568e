// Child processes of a run (engines, load generator). Every one is registered so that an exit handler
// can SIGKILL whatever is still alive, whatever way the benchmark ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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

export interface LogLine {
  readonly entry: Record<string, unknown>;
  readonly atMs: number;
}

export interface EngineProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly spawnedAtMs: number;
  readonly startedAtMs: number;
  /** HTTP base URL (/metrics). */
  readonly url: string;
  readonly logs: LogLine[];
  readonly exited: Promise<number | null>;
}

export async function spawnEngine(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<EngineProcess> {
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, [packageFile('@parallax/matching-engine', 'main.js')], {
    env: { ...process.env, ...env, ENGINE_INSTANCE_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const logs: LogLine[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    resolve(code);
  }));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  let url = '';
  const startedAtMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine ${name} did not start within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const atMs = Date.now();
      logs.push({ entry, atMs });
      if (entry['msg'] === 'matching engine started') {
        clearTimeout(timer);
        url = String(entry['url']);
        resolve(atMs);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`engine ${name} exited with ${String(code)} before starting\n${stderr}`));
    });
  });
  if (child.pid === undefined) throw new Error(`engine ${name} has no pid`);
  return { name, child, pid: child.pid, spawnedAtMs, startedAtMs, url, logs, exited };
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
