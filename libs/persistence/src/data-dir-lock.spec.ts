import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DATA_DIR_LOCK_FILE, lockDataDir } from './data-dir-lock.js';
import { PersistenceError } from './persistence.errors.js';

const lockModule = fileURLToPath(new URL('./data-dir-lock.js', import.meta.url));

function isLocked(dir: string, holder: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof PersistenceError && err.code === 'EMBEDDED_DATA_DIR_LOCKED' && err.message.includes(dir) && holder.test(err.message);
}

/** Another process that takes the lock and keeps it until killed. */
async function holderProcess(dir: string): Promise<{ pid: number; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(lockModule)}); m.lockDataDir(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) resolve();
    });
    child.on('exit', (code) => {
      reject(new Error(`holder exited ${String(code)}`));
    });
  });
  return {
    pid: child.pid ?? 0,
    // SIGKILL: no cleanup, the lock file stays behind as a crash leaves it.
    kill: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => {
          resolve();
        });
        child.kill('SIGKILL');
      }),
  };
}

describe('embedded data directory lock', () => {
  let root: string;
  let n = 0;
  const freshDir = (): string => join(root, `data-${++n}`);

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'parallax-lock-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the directory, writes this pid, refuses a second lock in the same process, frees it on release', () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    const owner = JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8')) as { pid: number; host: string };
    assert.deepEqual([owner.pid, owner.host], [process.pid, hostname()]);
    assert.throws(() => lockDataDir(dir), isLocked(dir, /this process/));
    lock.release();
    lock.release();
    assert.equal(existsSync(join(dir, DATA_DIR_LOCK_FILE)), false);
    lockDataDir(dir).release();
  });

  it('refuses while another live process holds it, naming the directory and the pid; takes over once it died', async () => {
    const dir = freshDir();
    const holder = await holderProcess(dir);
    try {
      assert.throws(() => lockDataDir(dir), isLocked(dir, new RegExp(`pid ${holder.pid} on `)));
    } finally {
      await holder.kill();
    }
    // The crashed holder's file is still there, with a dead pid: stale.
    assert.equal(existsSync(join(dir, DATA_DIR_LOCK_FILE)), true);
    const lock = lockDataDir(dir);
    assert.equal((JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number }).pid, process.pid);
    lock.release();
  });

  it('takes over a lock naming this very pid (a restarted container reuses pid 1) or an unreadable one', () => {
    for (const content of [JSON.stringify({ pid: process.pid, host: hostname() }), '{"pid":', '']) {
      const dir = freshDir();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, DATA_DIR_LOCK_FILE), content);
      lockDataDir(dir).release();
    }
  });

  it('refuses a lock held from another host (its liveness cannot be checked from here)', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: 4242, host: `not-${hostname()}` }));
    assert.throws(() => lockDataDir(dir), isLocked(dir, /pid 4242 on not-/));
  });

  it('release leaves a lock that is no longer its own (taken over by someone else) in place', () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    const theirs = JSON.stringify({ pid: 4242, host: `not-${hostname()}` });
    writeFileSync(lock.path, theirs);
    lock.release();
    assert.equal(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8'), theirs);
  });
});
