// The settlement writer lease against the real PostgreSQL server: two instances racing for one contract get
// exactly one lease, a lost session is noticed before the next broadcast, and the lock comes free with it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PersistenceError } from '../persistence.errors.js';
import { createTestDatabase, type TestDatabase } from '../test-database.js';
import { acquireWriterLease, embeddedWriterLease, settlementLockKey, type WriterLease } from './writer-lease.js';

const CONTRACT = '0x00000000000000000000000000000000000005E7';
const isCode = (code: string) => (err: unknown) => err instanceof PersistenceError && err.code === code;

describe('settlement writer lease (PostgreSQL advisory lock)', () => {
  let db: TestDatabase;
  const leases: WriterLease[] = [];

  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });

  after(async () => {
    for (const l of leases) await l.release();
    await db.drop();
  });

  it('keys a contract by chain and address, case-insensitively, and tells contracts and chains apart', () => {
    assert.equal(settlementLockKey(31_337, CONTRACT), settlementLockKey(31_337, CONTRACT.toLowerCase()));
    assert.notEqual(settlementLockKey(31_337, CONTRACT), settlementLockKey(1, CONTRACT));
    assert.notEqual(settlementLockKey(31_337, CONTRACT), settlementLockKey(31_337, '0x00000000000000000000000000000000000005e8'));
  });

  it('two instances racing for the same contract: exactly one gets the lease, the other SETTLEMENT_WRITER_LOCKED', async () => {
    const key = settlementLockKey(31_337, CONTRACT);
    const results = await Promise.allSettled([acquireWriterLease(db.url, key), acquireWriterLease(db.url, key), acquireWriterLease(db.url, key)]);
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    leases.push(...won);
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isCode('SETTLEMENT_WRITER_LOCKED')(r.reason), String(r.reason));
    await won[0]!.assertHeld();
    // Another contract is another writer.
    const other = await acquireWriterLease(db.url, settlementLockKey(31_337, '0x00000000000000000000000000000000000005e8'));
    leases.push(other);
    await other.assertHeld();

    // Released: the next instance gets it.
    await won[0]!.release();
    await assert.rejects(won[0]!.assertHeld(), isCode('SETTLEMENT_WRITER_LOST'));
    const next = await acquireWriterLease(db.url, key);
    leases.push(next);
    await next.assertHeld();
    await next.release();
  });

  it('a writer whose session the server ended notices before its next broadcast, and the lock is free for another', async () => {
    const key = settlementLockKey(10, CONTRACT);
    const first = await acquireWriterLease(db.url, key);
    leases.push(first);
    await first.assertHeld();
    // The server ends the writer's session (failover, idle timeout, an operator's pg_terminate_backend).
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'parallax-settlement-writer' AND pid <> pg_backend_pid()) t`,
      );
      assert.ok((rows[0]?.n ?? 0) >= 1);
    } finally {
      await admin.end();
    }
    await assert.rejects(first.assertHeld(), isCode('SETTLEMENT_WRITER_LOST'));
    const second = await acquireWriterLease(db.url, key);
    leases.push(second);
    await second.assertHeld();
    // The first never gets it back by itself.
    await assert.rejects(first.assertHeld(), isCode('SETTLEMENT_WRITER_LOST'));
  });

  it('an embedded database is single-writer by construction: its lease holds until released', async () => {
    const lease = embeddedWriterLease();
    await lease.assertHeld();
    await lease.release();
    await assert.rejects(lease.assertHeld(), isCode('SETTLEMENT_WRITER_LOST'));
  });
});
