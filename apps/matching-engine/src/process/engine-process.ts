// A matching engine as a child process (dist/main.js configured by environment variables), for launchers,
// fault tests and benchmarks: it can be killed with SIGKILL like a crashed pod, and its JSON log lines are
// collected with the time they arrived, which is how start-up and fail-over are measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../main.js', import.meta.url));

export interface EngineLogLine {
  readonly entry: Record<string, unknown>;
  /** Date.now() in the parent when the line arrived. */
  readonly atMs: number;
}

export interface EngineProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** HTTP base URL (/metrics, /health). */
  readonly url: string;
  /** Date.now() just before spawn. */
  readonly spawnedAtMs: number;
  /** Date.now() when the "matching engine started" line arrived. */
  readonly startedAtMs: number;
  /** Parsed JSON log lines so far (the engine keeps logging into it). */
  readonly logs: EngineLogLine[];
  readonly exited: Promise<number | null>;
}

export interface SpawnEngineOptions {
  /** How long to wait for "matching engine started" before killing it (default 60 s). */
  readonly timeoutMs?: number;
  /** Called with the child right after spawn (e.g. to register it for clean-up). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** Spawns an engine (ENGINE_INSTANCE_ID = name) and resolves once it logged that it started. */
export async function spawnEngineProcess(name: string, env: Readonly<Record<string, string>>, options: SpawnEngineOptions = {}): Promise<EngineProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    env: { ...process.env, ...env, ENGINE_INSTANCE_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  const logs: EngineLogLine[] = [];
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
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
      // pino writes fatal errors to stdout: show the last lines too.
      const last = logs.slice(-3).map((l) => JSON.stringify(l.entry));
      reject(new Error(`engine ${name} exited with ${String(code)} before starting\n${stderr}${last.join('\n')}`));
    });
  });
  if (child.pid === undefined) throw new Error(`engine ${name} has no pid`);
  return { name, child, pid: child.pid, url, spawnedAtMs, startedAtMs, logs, exited };
}
