import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainError } from './errors.js';

export interface AnvilOptions {
  /** Port to listen on; 0 (default) lets the OS pick a free one. */
  readonly port?: number;
  readonly chainId?: number;
  /** Enforce EIP-7825's 16,777,216 per-transaction gas cap (anvil leaves it off by default). */
  readonly enforceTxGasLimit?: boolean;
  /** Block gas limit (anvil's default is 30,000,000). */
  readonly gasLimit?: bigint;
  /** Extra command-line arguments. */
  readonly args?: readonly string[];
  /** Path of the anvil binary; default: $ANVIL_BIN, then the npm package's binary. */
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

export interface Anvil {
  readonly rpcUrl: string;
  readonly host: string;
  readonly port: number;
  readonly chainId: number;
  readonly pid: number;
  /** Stops the node (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. Idempotent. */
  close(): Promise<void>;
}

/** The well-known mnemonic of anvil's pre-funded dev accounts (never use it anywhere that holds value). */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts anvil on 127.0.0.1 and resolves once it prints "Listening on". The child is spawned in its own
 * process group and killed with it on close() or when this process exits, so no node is left behind.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337;
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--chain-id', String(chainId)];
  if (options.enforceTxGasLimit === true) args.push('--enable-tx-gas-limit');
  if (options.gasLimit !== undefined) args.push('--gas-limit', options.gasLimit.toString());
  args.push(...(options.args ?? []));

  const binary = options.binary ?? resolveAnvilBinary();
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  installExitHook();
  live.add(child);
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      live.delete(child);
      resolveExit();
    });
  });

  let output = '';
  const started = await new Promise<{ host: string; port: number }>((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      fail(`anvil did not start within ${options.startTimeoutMs ?? 10_000} ms`);
    }, options.startTimeoutMs ?? 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Listening on ([\d.]+):(\d+)/.exec(output);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolveStart({ host: match[1], port: Number(match[2]) });
      }
    };
    const onExit = (code: number | null): void => {
      fail(`anvil exited with code ${code ?? 'null'} before listening`);
    };
    function fail(message: string): void {
      clearTimeout(timer);
      kill(child, 'SIGKILL');
      rejectStart(new ChainError('ANVIL_START_FAILED', `${message}\n${output.slice(-2000)}`));
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', onExit);
    child.once('error', (err) => {
      fail(`cannot run ${binary}: ${err.message}`);
    });
  });
  // Keep draining the pipes: anvil logs every request and would block on a full pipe.
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();

  let closing: Promise<void> | undefined;
  return {
    rpcUrl: `http://${started.host}:${started.port}`,
    host: started.host,
    port: started.port,
    chainId,
    pid: child.pid ?? -1,
    close(): Promise<void> {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          kill(child, 'SIGTERM');
          const timer = setTimeout(() => {
            kill(child, 'SIGKILL');
          }, 2_000);
          await exited;
          clearTimeout(timer);
        }
      })();
      return closing;
    },
  };
}

/** $ANVIL_BIN, else the native binary of @foundry-rs/anvil's platform package, else node_modules/.bin/anvil. */
export function resolveAnvilBinary(): string {
  const fromEnv = process.env['ANVIL_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    const bin = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to the wrapper script
  }
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', 'anvil');
    if (existsSync(candidate)) return candidate;
    if (resolve(dir) === resolve(dirname(dir))) break;
  }
  // Other platforms: npm publishes anvil only for linux x64 here, so use a Foundry install on the PATH.
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, process.platform === 'win32' ? 'anvil.exe' : 'anvil');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new ChainError(
    'ANVIL_START_FAILED',
    'anvil not found: on linux x64 `npm ci` installs @foundry-rs/anvil-linux-amd64; elsewhere install Foundry (anvil on PATH) or set ANVIL_BIN',
  );
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the whole group (the npm wrapper script, if used, and anvil itself).
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) kill(child, 'SIGKILL');
  });
}
