import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { localTraderAccount } from '@parallax/chain';
import { keccak256, toHex, type Hex } from 'viem';
import { ApiError } from '../errors/api.errors.js';
import { RecoveryPool } from './recovery-pool.js';
import { recoverSigner } from '../signing/signature-verifier.js';

describe('RecoveryPool', () => {
  const pool = new RecoveryPool({ workers: 2, batch: 16, syncBelow: 2 });
  after(() => pool.close());

  it('recovers what recoverSigner recovers, in batches across workers and alone in this thread', async () => {
    const signed: { digest: Hex; signature: Hex; who: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const account = localTraderAccount('recovery-pool', 1 + (i % 5));
      const digest = keccak256(toHex(`message ${i}`));
      signed.push({ digest, signature: await account.sign!({ hash: digest }), who: account.address.toLowerCase() });
    }
    // 40 at once: batches of 16 on the workers.
    const many = await Promise.all(signed.map((s) => pool.recover(s.digest, s.signature)));
    assert.deepEqual(
      many,
      signed.map((s) => s.who),
    );
    assert.deepEqual(
      many,
      signed.map((s) => recoverSigner(s.digest, s.signature)),
    );
    // One alone: below syncBelow, recovered in this thread.
    assert.equal(await pool.recover(signed[0]!.digest, signed[0]!.signature), signed[0]!.who);
  });

  it('refuses what recoverSigner refuses, with the same code, without failing the rest of the batch', async () => {
    const account = localTraderAccount('recovery-pool', 9);
    const digest = keccak256(toHex('ok'));
    const good = await account.sign!({ hash: digest });
    // Well-formed, but r is the x of no curve point: nothing recovers from it (about half of all x are such).
    let noPoint: Hex | undefined;
    for (let x = 1; noPoint === undefined; x++) {
      const sig = `0x${x.toString(16).padStart(64, '0')}${'11'.repeat(32)}1b` as Hex;
      try {
        recoverSigner(digest, sig);
      } catch (e) {
        if (e instanceof ApiError && /does not recover/.test(e.message)) noPoint = sig;
      }
    }
    const highS = `0x${'11'.repeat(32)}${'ff'.repeat(32)}1b` as Hex;
    const results = await Promise.allSettled([pool.recover(digest, good), pool.recover(digest, noPoint), pool.recover(digest, highS), pool.recover(digest, good)]);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason instanceof ApiError ? r.reason.code : String(r.reason))),
      [account.address.toLowerCase(), 'INVALID_SIGNATURE', 'INVALID_SIGNATURE', account.address.toLowerCase()],
    );
    assert.throws(() => recoverSigner(digest, noPoint), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_SIGNATURE');
  });
});
