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

/**
 * The default bound on the wait for a service's ready line. Start-up is mostly loading code (about 3 CPU-seconds
 * for a Nest service): on a 2-core machine at load 20 (CI shares its cores) that took over 60 s of wall time. The
 * wait is for the line, while the process lives; the bound only stops a process that hangs.
 */
export const DEFAULT_READY_BOUND_MS = 300_000;

export interface SpawnOptions {
  /** How long to wait for the ready line before killing it (default DEFAULT_READY_BOUND_MS). */
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
  const timeoutMs = o.timeoutMs ?? DEFAULT_READY_BOUND_MS;
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
      // What it waited for, and how far the process got: its last log lines (none: it was still loading code).
      const last = logs.slice(-3).map((l) => JSON.stringify(l.entry));
      reject(new Error(`${name} did not log "${o.readyMessage}" within ${timeoutMs} ms (${logs.length} log lines before it was killed)\n${stderr}${last.join('\n')}`));
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
