// One process per embedded data directory. PGlite opens its files without any lock of its own: a second process
// on the same directory would corrupt the database (and, for settlement, be a second writer for the contract).
// The lock is a file in the directory, created exclusively, holding the owner's pid and host. A lock left by a
// process that is gone (a crash, a killed container whose pid this process now has) is stale and taken over; one
// held by a live process, or by a process on another host (whose liveness cannot be checked from here), refuses
// with EMBEDDED_DATA_DIR_LOCKED naming the directory.
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { PersistenceError } from './persistence.errors.js';

export const DATA_DIR_LOCK_FILE = 'parallax.lock';

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
}

/** Directories this process holds: a second open in the same process is refused too. */
const heldHere = new Set<string>();

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (typeof v.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0 && typeof v.host === 'string') return { pid: v.pid, host: v.host };
  } catch {
    // An unreadable owner (a torn write by a process killed while taking the lock) is stale below.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the owner written in a lock file still holds it (this process never does: it would be in heldHere). */
function ownerIsLive(owner: LockOwner | undefined): boolean {
  if (owner === undefined) return false;
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return false;
  return isAlive(owner.pid);
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Takes the exclusive lock of embedded data directory `dataDir` (created if missing), or throws
 * EMBEDDED_DATA_DIR_LOCKED naming it and its holder.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  const path = join(dir, DATA_DIR_LOCK_FILE);
  const locked = (holder: string): PersistenceError =>
    new PersistenceError('EMBEDDED_DATA_DIR_LOCKED', `the embedded database ${dir} is in use by ${holder} (${path}); one process per data directory`);
  if (heldHere.has(dir)) throw locked(`this process (pid ${process.pid})`);
  mkdirSync(dir, { recursive: true });
  // Two rounds: a stale lock is removed once, then created exclusively; a racing process that wins it wins.
  for (let round = 0; round < 2; round++) {
    if (tryCreate(path)) {
      heldHere.add(dir);
      let released = false;
      return {
        path,
        release: () => {
          if (released) return;
          released = true;
          heldHere.delete(dir);
          const owner = parseOwner(readOrUndefined(path) ?? '');
          if (owner?.pid === process.pid && owner.host === hostname()) unlinkSync(path);
        },
      };
    }
    const text = readOrUndefined(path);
    if (text === undefined) continue;
    const owner = parseOwner(text);
    if (ownerIsLive(owner)) throw locked(owner === undefined ? 'another process' : `pid ${owner.pid} on ${owner.host}`);
    // Stale: remove it only if it is still the file judged stale (not one a racing process just created).
    if (readOrUndefined(path) === text) unlinkSync(path);
  }
  throw locked('another process that took it over at the same moment');
}
