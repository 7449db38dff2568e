// One writer per settlement contract. The settlement service owns the operator key's nonce and the contract's
// batch sequence; two processes broadcasting for the same contract would fight over both. On PostgreSQL the
// writer holds a session-level advisory lock on a connection of its own for the life of the process: the
// lock goes with the session, so a crashed or partitioned writer loses it as soon as the server notices, and
// the writer checks that its session still holds it before every broadcast.
//
// Embedded PGlite: the database lives inside one process (a data directory can be opened by one process
// only: data-dir-lock.ts refuses a second one), so that process is the only writer by construction; its lease is
// always held.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PersistenceError } from '../persistence.errors.js';

export interface WriterLease {
  /** 'postgres': an advisory lock on a dedicated session; 'embedded': single process by construction. */
  readonly kind: 'postgres' | 'embedded';
  /** Throws SETTLEMENT_WRITER_LOST unless this process still holds the lock (a round trip to the server). */
  assertHeld(): Promise<void>;
  /** Releases the lock and closes its session. Idempotent. */
  release(): Promise<void>;
}

/**
 * The advisory lock key of a settlement contract: two services for the same contract (chain id + address)
 * exclude each other even with different database users; different contracts do not.
 */
export function settlementLockKey(chainId: number, contract: string): bigint {
  const digest = createHash('sha256').update(`parallax-settlement:${chainId}:${contract.toLowerCase()}`).digest();
  return digest.readBigInt64BE(0);
}

/**
 * Takes the writer lock of `key` on a new session of `databaseUrl` without waiting: SETTLEMENT_WRITER_LOCKED
 * when another session holds it (the caller refuses to start; an orchestrator retries it).
 */
export async function acquireWriterLease(databaseUrl: string, key: bigint): Promise<WriterLease> {
  // Keepalives make the server notice a writer that vanished (partitioned host) within seconds, so a standby
  // takes over; the query timeout keeps assertHeld from hanging on a dead session (it then reports it lost).
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'parallax-settlement-writer',
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    query_timeout: 10_000,
    options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
  });
  let lost: Error | undefined;
  // A broken session must not crash the process from an unhandled 'error' event: it is reported by assertHeld.
  client.on('error', (err) => {
    lost = err;
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key.toString()]);
    if (rows[0]?.locked !== true) {
      throw new PersistenceError('SETTLEMENT_WRITER_LOCKED', `another process holds the settlement writer lock ${key} of this database`);
    }
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  let released = false;
  return {
    kind: 'postgres',
    async assertHeld(): Promise<void> {
      if (released) throw new PersistenceError('SETTLEMENT_WRITER_LOST', 'the settlement writer lease was released');
      if (lost !== undefined) throw new PersistenceError('SETTLEMENT_WRITER_LOST', `the writer session failed: ${lost.message}`, { cause: lost });
      let held: boolean;
      try {
        const { rows } = await client.query<{ held: boolean }>(
          // A bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1.
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() AND objsubid = 1
             AND classid::bigint = (($1::bigint >> 32) & 4294967295) AND objid::bigint = ($1::bigint & 4294967295)) AS held`,
          [key.toString()],
        );
        held = rows[0]?.held === true;
      } catch (err) {
        lost = err instanceof Error ? err : new Error(String(err));
        throw new PersistenceError('SETTLEMENT_WRITER_LOST', `the writer session failed: ${lost.message}`, { cause: err });
      }
      if (!held) throw new PersistenceError('SETTLEMENT_WRITER_LOST', `the writer session no longer holds lock ${key}`);
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      // Ending the session releases the lock; an explicit unlock first keeps a pooled server connection clean.
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** The lease of an embedded (in-process) database: this process is the only one that can open it. */
export function embeddedWriterLease(): WriterLease {
  let released = false;
  return {
    kind: 'embedded',
    assertHeld(): Promise<void> {
      if (released) return Promise.reject(new PersistenceError('SETTLEMENT_WRITER_LOST', 'the settlement writer lease was released'));
      return Promise.resolve();
    },
    release(): Promise<void> {
      released = true;
      return Promise.resolve();
    },
  };
}
