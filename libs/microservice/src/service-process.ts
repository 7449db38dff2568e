// A Parallax service as a child process (its dist/main.js configured by environment variables), for launchers,
// fault tests and benchmarks: it can be killed with SIGKILL like a crashed pod, and its JSON log lines are
// collected with the time they arrived, which is how start-up and fail-over are measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceLogLine {
  readonly entry: Record<string, unknown>;
  /** Date.now() in the parent when the line arrived. */
  readonly atMs: number;
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** HTTP base URL (/metrics, /health). */
  readonly url: string;
  /** Date.now() just before spawn. */
  readonly spawnedAtMs: number;
  /** Date.now() when the ready line arrived. */
  readonly startedAtMs: number;
  /** Parsed JSON log lines so far (the service keeps logging into it). */
  readonly logs: ServiceLogLine[];
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  /** How long to wait for the ready line before killing it (default 60 s). */
  readonly timeoutMs?: number;
  /** Called with the child right after spawn (e.g. to register it for clean-up). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export interface ServiceProcessOptions extends SpawnOptions {
  /** The Node entry file. */
  readonly main: string;
  readonly name: string;
  /** The pino `msg` that says the service is up (its `url` field is taken as the HTTP base URL). */
  readonly readyMessage: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Spawns any Parallax service entry point (pino JSON logs on stdout) and resolves once it logged readyMessage. */
export async function spawnServiceProcess(o: ServiceProcessOptions): Promise<ServiceProcess> {
  const { name } = o;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, ['--enable-source-maps', o.main], {
    // JSON lines are what this reads, whatever the caller's LOG_FORMAT says.
    env: { ...process.env, ...o.env, LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  o.onSpawn?.(child);
  const logs: ServiceLogLine[] = [];
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
      reject(new Error(`${name} did not start within ${timeoutMs} ms\n${stderr}`));
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
      if (entry['msg'] === o.readyMessage) {
        clearTimeout(timer);
        url = String(entry['url']);
        resolve(atMs);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      // pino writes fatal errors to stdout: show the last lines too.
      const last = logs.slice(-3).map((l) => JSON.stringify(l.entry));
      reject(new Error(`${name} exited with ${String(code)} before starting\n${stderr}${last.join('\n')}`));
    });
  });
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  return { name, child, pid: child.pid, url, spawnedAtMs, startedAtMs, logs, exited };
}
