// Start-up of the settlement service against a real anvil node and the real PostgreSQL server: it refuses to
// start on a wrong chain, contract, operator key or deploy block, or without a durable database; two
// instances racing for one contract get one writer; /ready reports the loop's, database's, chain's and broker's state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ANVIL_MNEMONIC, settlementDomain } from '@parallax/chain';
import { ConfigError } from '@parallax/observability';
import { createTestDatabase, PersistenceError, type TestDatabase } from '@parallax/persistence';
import { createEmbeddedTransport, type Transport } from '@parallax/transport';
import { bytesToHex, getAddress } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { SettlementConfig } from '../config/settlement.config.js';
import { localSettlementConfig, startLocalSettlementChain, type LocalSettlementChain } from '../local/local-settlement.js';
import { checkChainAtBoot, SettlementBootError, type BootCheckCode, type BootExpectations } from './boot-checks.js';
import { startSettlement, type SettlementHandle } from './bootstrap.js';

const TOPICS = { marketEvents: 'boot.events', deadLetters: 'boot.dead', signedOrders: 'boot.signed', settlementStatus: 'boot.status' };

function devKey(index: number): `0x${string}` {
  const key = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  assert.ok(key);
  return bytesToHex(key);
}

const bootError = (...codes: BootCheckCode[]) => (err: unknown) => {
  assert.ok(err instanceof SettlementBootError, `expected SettlementBootError, got ${String(err)}`);
  assert.deepEqual([...err.codes].sort(), [...codes].sort(), err.message);
  return true;
};

describe('settlement start-up (anvil + PostgreSQL)', { timeout: 240_000 }, () => {
  let local: LocalSettlementChain;
  let db: TestDatabase;
  const transports: Transport[] = [];
  const handles: SettlementHandle[] = [];

  before(async () => {
    local = await startLocalSettlementChain();
    db = await createTestDatabase();
  });

  after(async () => {
    for (const h of handles) await h.close();
    for (const t of transports) await t.close();
    await db.drop();
    await local.chain.close();
  });

  const config = (over: Partial<SettlementConfig> = {}): SettlementConfig => localSettlementConfig(local, TOPICS, { databaseUrl: db.url, ...over });
  const transport = (): Transport => {
    const t = createEmbeddedTransport();
    transports.push(t);
    return t;
  };

  describe('boot checks against the node and the contract', () => {
    const want = (over: Partial<BootExpectations> = {}): BootExpectations => ({
      chainId: local.chain.anvil.chainId,
      settlement: local.chain.settlement,
      operator: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 }).address,
      deployBlock: 1n,
      domainFor: (id) => settlementDomain(id, local.chain.settlement),
      ...over,
    });

    it('pass for the deployed contract, its operator and chain', async () => {
      assert.equal(await checkChainAtBoot(local.chain.publicClient, want()), local.chain.anvil.chainId);
    });

    it('refuse a CHAIN_ID the node does not serve (the domain would not match either)', async () => {
      await assert.rejects(checkChainAtBoot(local.chain.publicClient, want({ chainId: 1 })), bootError('CHAIN_ID_MISMATCH', 'DOMAIN_MISMATCH'));
    });

    it('refuse an address without code', async () => {
      await assert.rejects(checkChainAtBoot(local.chain.publicClient, want({ settlement: getAddress(`0x${'5e'.repeat(20)}`) })), bootError('NO_CONTRACT_CODE'));
    });

    it('refuse a contract that is not the settlement contract (a token: no signing domain, no operator)', async () => {
      await assert.rejects(checkChainAtBoot(local.chain.publicClient, want({ settlement: local.chain.tokens['BASE']! })), bootError('DOMAIN_MISMATCH', 'NOT_OPERATOR'));
    });

    it('refuse a key that is not the contract operator', async () => {
      await assert.rejects(checkChainAtBoot(local.chain.publicClient, want({ operator: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 }).address })), bootError('NOT_OPERATOR'));
    });

    it('refuse an unset or future deploy block', async () => {
      await assert.rejects(checkChainAtBoot(local.chain.publicClient, want({ deployBlock: 0n })), bootError('DEPLOY_BLOCK_INVALID'));
      await assert.rejects(checkChainAtBoot(local.chain.publicClient, want({ deployBlock: 10n ** 12n })), bootError('DEPLOY_BLOCK_INVALID'));
    });

    it('startSettlement refuses to start with a wrong operator key, naming the problem', async () => {
      await assert.rejects(startSettlement(config({ operatorKey: devKey(2) }), transport()), bootError('NOT_OPERATOR'));
    });
  });

  it('refuses to start without DATABASE_URL unless the development flag allows an embedded database', async () => {
    await assert.rejects(startSettlement(config({ databaseUrl: undefined }), transport()), (err: unknown) => err instanceof ConfigError && err.message.includes('DATABASE_URL'));
  });

  it('two instances racing for one contract on one database: one writer starts, the other refuses; /ready is the loop, database, chain and broker state', async () => {
    const results = await Promise.allSettled([startSettlement(config({ groupId: 'boot-a' }), transport()), startSettlement(config({ groupId: 'boot-b' }), transport())]);
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    handles.push(...started);
    assert.equal(started.length, 1, JSON.stringify(results.map((r) => r.status)));
    const refused = results.find((r) => r.status === 'rejected');
    assert.ok(refused?.status === 'rejected');
    assert.ok(refused.reason instanceof PersistenceError && refused.reason.code === 'SETTLEMENT_WRITER_LOCKED', String(refused.reason));

    const writer = started[0]!;
    // Ready: database, chain and broker answer, and the loop has stepped (liveness is the process alone).
    type Loop = { status?: string; state?: string; writer?: string; lastSuccessAtMs?: number; consecutiveFailures?: number };
    type Ready = { status?: string; details?: { loop?: Loop; database?: { status?: string; database?: string }; chain?: { status?: string; chainId?: number }; broker?: { status?: string } } };
    let body: Ready = {};
    for (let i = 0; i < 100 && body.details?.loop?.lastSuccessAtMs === undefined; i++) {
      const res = await fetch(`${writer.url}/ready`);
      body = (await res.json()) as Ready;
      if (body.details?.loop?.lastSuccessAtMs === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body.status, 'ok', JSON.stringify(body));
    const loop = body.details?.loop ?? {};
    assert.equal(loop.state, 'ok');
    assert.equal(loop.writer, 'postgres');
    assert.equal(loop.consecutiveFailures, 0);
    assert.equal(typeof loop.lastSuccessAtMs, 'number');
    const details = body.details ?? {};
    assert.match(details.database?.database ?? '', /^PostgreSQL 127\.0\.0\.1:5432\/parallax_test_/);
    assert.equal(details.database?.status, 'up');
    assert.equal(details.chain?.status, 'up');
    assert.equal(details.broker?.status, 'up');
    assert.equal((await fetch(`${writer.url}/health`)).status, 200);

    // The writer stops: the next instance gets the lease.
    await writer.close();
    const next = await startSettlement(config({ groupId: 'boot-c' }), transport());
    handles.push(next);
    assert.notEqual(next.url, writer.url);
  });
});
