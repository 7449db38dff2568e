// BatchSettler against a real anvil node: prepare/exclude, broadcast, replacement, confirmation depth, node restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Address, type LocalAccount } from 'viem';
import { startAnvil, type Anvil } from '../anvil.js';
import type { BatchFill, BatchInput } from '../batch.js';
import { ChainError } from '../errors.js';
import { settlementAbi } from '../generated/contracts.js';
import { startLocalChain, type LocalChain } from '../local.js';
import { hashOrder, signOrder, type SignedOrder } from '../order.js';
import { ONE, PRICE, account, balanceOf, chainNow, makeOrder, signed } from '../contract-tests/support.js';
import { BatchSettler, settleBatchCalldata, type BroadcastRecord, type SettlerJournal } from './batch-settler.js';
import type { SettlerConfig } from './config.js';

const QUOTE_PER_FILL = PRICE; // 1e18 base at PRICE per 1e18 = PRICE quote units
const FAST: Partial<SettlerConfig> = {
  confirmations: 1,
  pollIntervalMs: 20,
  replaceAfterMs: 60_000,
  feeBumpPercent: 20,
  priorityFeePerGas: 1_000_000_000n,
  maxFeePerGasCap: 1_000_000_000_000n,
  rpcRetryInitialMs: 20,
  rpcRetryMaxMs: 200,
};

class MemoryJournal implements SettlerJournal {
  readonly records: BroadcastRecord[] = [];
  beforeBroadcast(_batchId: bigint, tx: BroadcastRecord): Promise<void> {
    this.records.push(tx);
    return Promise.resolve();
  }
}

let labelSeq = 0;
async function trader(lc: LocalChain, base: bigint, quote: bigint): Promise<LocalAccount> {
  const acct = account(`batch-settler-spec-${labelSeq++}`);
  if (base > 0n) await lc.fund(acct.address, lc.tokens['BASE']!, base);
  if (quote > 0n) await lc.fund(acct.address, lc.tokens['QUOTE']!, quote);
  return acct;
}

/**
 * A batch builder: each pair() adds a buy and a sell order of 2e18 and one 1e18 fill between them (a partial
 * fill, so filledAmount records it; a complete one would set the nonce bit instead).
 */
class Builder {
  readonly orders: SignedOrder[] = [];
  readonly fills: BatchFill[] = [];
  constructor(
    private readonly lc: LocalChain,
    private readonly now: bigint,
  ) {}
  async pair(buyer: LocalAccount, seller: LocalAccount, opts: { buySigner?: LocalAccount } = {}): Promise<{ buy: SignedOrder; sell: SignedOrder }> {
    const nonce = BigInt(labelSeq++);
    const buyOrder = makeOrder(this.lc, buyer, this.now, { isBuy: true, nonce, size: 2n * ONE });
    // Signed by someone else than the trader: the contract's ecrecover yields another address.
    const buy =
      opts.buySigner === undefined
        ? await signOrder(buyer, this.lc.domain, buyOrder)
        : { ...(await signOrder(opts.buySigner, this.lc.domain, { ...buyOrder, trader: opts.buySigner.address })), trader: buyer.address };
    const sell = await signed(this.lc, seller, this.now, { isBuy: false, nonce, size: 2n * ONE });
    this.orders.push(buy, sell);
    this.fills.push({ buyOrder: this.orders.length - 2, sellOrder: this.orders.length - 1, baseAmount: ONE, price: PRICE });
    return { buy, sell };
  }
  input(): BatchInput {
    return { domain: this.lc.domain, orders: this.orders, fills: this.fills };
  }
}

async function filled(lc: LocalChain, order: SignedOrder): Promise<bigint> {
  return lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'filledAmount', args: [hashOrder(lc.domain, order)] });
}

async function lastBatchId(lc: LocalChain): Promise<bigint> {
  return lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'lastBatchId' });
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function inMempool(lc: LocalChain, hash: `0x${string}`): Promise<boolean> {
  try {
    await lc.publicClient.getTransaction({ hash });
    return true;
  } catch {
    return false;
  }
}

/** A funded buyer and seller, one fill between them, prepared as the settler's next batch (asserted ready). */
async function oneReadyFill(lc: LocalChain, settler: BatchSettler) {
  const b = new Builder(lc, await chainNow(lc));
  const buyer = await trader(lc, 0n, 10n * QUOTE_PER_FILL);
  const { buy } = await b.pair(buyer, await trader(lc, 10n * ONE, 0n));
  const batchId = (await settler.lastBatchId()) + 1n;
  const prepared = await settler.prepare(batchId, b.input());
  assert.equal(prepared.kind, 'ready');
  return { buyer, buy, batchId, prepared };
}

function settlerFor(lc: LocalChain, config: Partial<SettlerConfig> = {}, events?: string[]): BatchSettler {
  return new BatchSettler({ reader: lc.publicClient, operator: lc.operator }, lc.settlement, { ...FAST, ...config }, (event) => {
    events?.push(event);
  });
}

describe('BatchSettler', () => {
  let lc: LocalChain;
  let BASE: Address;
  let QUOTE: Address;

  before(async () => {
    lc = await startLocalChain();
    BASE = lc.tokens['BASE']!;
    QUOTE = lc.tokens['QUOTE']!;
  });
  after(async () => {
    await lc.close();
  });

  for (const confirmations of [1, 3]) {
    test(`happy path: prepare, broadcast, confirm at depth ${confirmations}`, async () => {
      const settler = settlerFor(lc, { confirmations });
      const b = new Builder(lc, await chainNow(lc));
      const buyer = await trader(lc, 0n, 10n * QUOTE_PER_FILL);
      const seller = await trader(lc, 10n * ONE, 0n);
      const first = await b.pair(buyer, seller);
      const second = await b.pair(buyer, seller);
      const batchId = (await settler.lastBatchId()) + 1n;

      const prepared = await settler.prepare(batchId, b.input());
      assert.equal(prepared.kind, 'ready');
      assert.deepEqual(prepared.kept, [0, 1]);
      assert.deepEqual(prepared.excluded, []);
      assert.deepEqual(prepared.deferred, []);
      assert.ok(prepared.gasLimit > 21_000n && prepared.gasLimit < 1_000_000n);

      const journal = new MemoryJournal();
      const mined = await settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal);
      assert.equal(mined.status, 'success');
      assert.equal(journal.records.length, 1);
      assert.equal(journal.records[0]!.hash, mined.hash);
      assert.equal(journal.records[0]!.gasLimit, prepared.gasLimit);
      assert.ok(mined.gasUsed < prepared.gasLimit);

      for (let extra = 0; extra < confirmations - 1; extra++) {
        assert.equal(await settler.checkConfirmation(mined), 'pending');
        await lc.testClient.mine({ blocks: 1 });
      }
      assert.equal(await settler.checkConfirmation(mined), 'confirmed');

      assert.equal(await lastBatchId(lc), batchId);
      assert.equal(await balanceOf(lc, BASE, buyer.address), 2n * ONE);
      assert.equal(await balanceOf(lc, QUOTE, seller.address), 2n * QUOTE_PER_FILL);
      assert.equal(await filled(lc, first.buy), ONE);
      assert.equal(await filled(lc, second.sell), ONE);
      // Found again from its log, with the transaction's input: exactly the calldata we sent.
      assert.deepEqual(await settler.findSettled(batchId), { ...mined, input: settleBatchCalldata(batchId, prepared.encoded.data) });
    });
  }

  test('a bad signature is dropped by name; an underfunded fill stays in and is skipped on chain (skippedFills); the rest settles', async () => {
    const settler = settlerFor(lc);
    const b = new Builder(lc, await chainNow(lc));
    const buyer = await trader(lc, 0n, 10n * QUOTE_PER_FILL);
    const seller = await trader(lc, 10n * ONE, 0n);
    const broke = await trader(lc, 0n, QUOTE_PER_FILL / 2n); // cannot pay for one fill
    const forged = await trader(lc, 0n, 10n * QUOTE_PER_FILL);
    const good1 = await b.pair(buyer, seller);
    const underfunded = await b.pair(broke, seller);
    const badSig = await b.pair(forged, seller, { buySigner: account('not-the-trader') });
    const good2 = await b.pair(buyer, seller);
    const batchId = (await settler.lastBatchId()) + 1n;

    const prepared = await settler.prepare(batchId, b.input());
    assert.equal(prepared.kind, 'ready');
    // Funds are the chain's to judge at mining time: the underfunded fill is not trimmed by simulation.
    assert.deepEqual(prepared.kept, [0, 1, 3]);
    assert.deepEqual(prepared.deferred, []);
    const reasons = new Map(prepared.excluded.map((e) => [e.fill, e.reason]));
    assert.deepEqual(reasons, new Map([[2, 'InvalidSignature']]));
    // Orders used only by excluded fills are not in the encoded batch.
    assert.equal(prepared.encoded.orders.length, 6);

    const mined = await settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, new MemoryJournal());
    assert.equal(mined.status, 'success');
    // Encoded fill 1 is input fill kept[1] = 1, the underfunded one.
    assert.deepEqual(await settler.skippedFills(mined), [1]);
    assert.equal(await lastBatchId(lc), batchId);
    assert.equal(await filled(lc, good1.buy), ONE);
    assert.equal(await filled(lc, good2.sell), ONE);
    assert.equal(await filled(lc, underfunded.sell), 0n);
    assert.equal(await filled(lc, badSig.buy), 0n);
    assert.equal(await balanceOf(lc, QUOTE, broke.address), QUOTE_PER_FILL / 2n);
    assert.equal(await balanceOf(lc, BASE, forged.address), 0n);
    assert.equal(await balanceOf(lc, BASE, buyer.address), 2n * ONE);
  });

  test("exclusion: a batch where every fill is bad is 'empty' and nothing is sent", async () => {
    const settler = settlerFor(lc);
    const b = new Builder(lc, await chainNow(lc));
    const seller = await trader(lc, 10n * ONE, 0n);
    await b.pair(await trader(lc, 0n, 10n * QUOTE_PER_FILL), seller, { buySigner: account('forger-0') });
    await b.pair(await trader(lc, 0n, 10n * QUOTE_PER_FILL), seller, { buySigner: account('forger') });
    const nonceBefore = await lc.publicClient.getTransactionCount({ address: lc.operator.account.address });
    const batchId = (await settler.lastBatchId()) + 1n;

    const prepared = await settler.prepare(batchId, b.input());
    assert.equal(prepared.kind, 'empty');
    assert.deepEqual(
      [...prepared.excluded].sort((x, y) => x.fill - y.fill).map((e) => [e.fill, e.reason]),
      [
        [0, 'InvalidSignature'],
        [1, 'InvalidSignature'],
      ],
    );
    assert.equal(await lc.publicClient.getTransactionCount({ address: lc.operator.account.address }), nonceBefore);
    assert.equal(await lastBatchId(lc), batchId - 1n);
  });

  test('a wrong batch id is BATCH_OUT_OF_ORDER; an unsettled id has no settlement', async () => {
    const settler = settlerFor(lc);
    const b = new Builder(lc, await chainNow(lc));
    await b.pair(await trader(lc, 0n, 10n * QUOTE_PER_FILL), await trader(lc, 10n * ONE, 0n));
    const last = await settler.lastBatchId();
    assert.ok(last >= 1n, 'earlier tests settled batches');
    for (const wrong of [last, last + 2n]) {
      await assert.rejects(settler.prepare(wrong, b.input()), (e: unknown) => e instanceof ChainError && e.code === 'BATCH_OUT_OF_ORDER');
    }
    assert.equal(await settler.findSettled(last + 1n), undefined);
    assert.equal((await settler.findSettled(last))?.status, 'success');
  });

  test("a settlement reorged out is 'dropped'; broadcast with the journaled records re-sends it", async () => {
    const settler = settlerFor(lc, { confirmations: 2 });
    const { buy, batchId, prepared } = await oneReadyFill(lc, settler);

    const snapshot = await lc.testClient.snapshot();
    const journal = new MemoryJournal();
    const mined = await settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal);
    assert.equal(await settler.checkConfirmation(mined), 'pending');
    await lc.testClient.revert({ id: snapshot }); // the block with the settlement is gone
    await lc.testClient.mine({ blocks: 3 });
    assert.equal(await settler.checkConfirmation(mined), 'dropped');
    assert.equal(await settler.findSettled(batchId), undefined);
    assert.equal(await lastBatchId(lc), batchId - 1n);

    // After a restart the caller only has its journal: the same signed transaction goes out again.
    const again = await settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal, { previous: journal.records });
    assert.equal(again.hash, mined.hash);
    assert.notEqual(again.blockHash, mined.blockHash);
    assert.equal(journal.records.length, 1);
    await lc.testClient.mine({ blocks: 1 });
    assert.equal(await settler.checkConfirmation(again), 'confirmed');
    assert.equal(await lastBatchId(lc), batchId);
    assert.equal(await filled(lc, buy), ONE);
    // A journal whose transaction is already mined: broadcast adopts the receipt without sending anything.
    const nonce = await lc.publicClient.getTransactionCount({ address: lc.operator.account.address });
    assert.deepEqual(await settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal, { previous: journal.records }), again);
    assert.equal(await lc.publicClient.getTransactionCount({ address: lc.operator.account.address }), nonce);
  });

  test('a stuck transaction is replaced with the same nonce and higher fees, journaled first', async () => {
    const events: string[] = [];
    const settler = settlerFor(lc, { replaceAfterMs: 400 }, events);
    const { buy, batchId, prepared } = await oneReadyFill(lc, settler);

    await lc.testClient.setAutomine(false); // nothing mines until the test says so
    const journal = new MemoryJournal();
    const pending = settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal);
    try {
      await waitFor('a replacement in the mempool', async () => journal.records.length >= 2 && (await inMempool(lc, journal.records[1]!.hash)));
      // The original is gone from the pool: the node swapped it for the replacement.
      assert.equal(await inMempool(lc, journal.records[0]!.hash), false);
      await lc.testClient.mine({ blocks: 1 });
    } finally {
      await lc.testClient.setAutomine(true);
    }
    const mined = await pending;
    const [original, replacement] = journal.records;
    assert.equal(journal.records.length, 2);
    assert.equal(replacement!.nonce, original!.nonce);
    assert.ok(replacement!.maxFeePerGas * 100n >= original!.maxFeePerGas * 120n);
    assert.ok(replacement!.maxPriorityFeePerGas * 100n >= original!.maxPriorityFeePerGas * 120n);
    assert.ok(replacement!.sentAtMs - original!.sentAtMs >= 400);
    assert.equal(mined.hash, replacement!.hash);
    assert.equal(mined.status, 'success');
    assert.ok(events.includes('settler.broadcast.replaced'));
    await assert.rejects(lc.publicClient.getTransactionReceipt({ hash: original!.hash }));
    assert.equal(await lastBatchId(lc), batchId);
    assert.equal(await filled(lc, buy), ONE);
  });

  test('a nonce taken by another transaction: the batch is re-sent with a fresh nonce', async () => {
    const settler = settlerFor(lc, { replaceAfterMs: 300 });
    const { buy, batchId, prepared } = await oneReadyFill(lc, settler);

    await lc.testClient.setAutomine(false);
    const journal = new MemoryJournal();
    const pending = settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal);
    try {
      await waitFor('the first broadcast', async () => journal.records.length >= 1 && (await inMempool(lc, journal.records[0]!.hash)));
      // Another process with the operator key outbids it with a plain transfer at the same nonce.
      const first = journal.records[0]!;
      await lc.operator.sendTransaction({
        to: lc.operator.account.address,
        nonce: first.nonce,
        gas: 21_000n,
        maxFeePerGas: first.maxFeePerGas * 3n,
        maxPriorityFeePerGas: first.maxPriorityFeePerGas * 3n,
      });
      await lc.testClient.mine({ blocks: 1 });
    } finally {
      await lc.testClient.setAutomine(true);
    }
    const mined = await pending;
    assert.equal(mined.status, 'success');
    assert.ok(journal.records.length >= 2);
    assert.equal(mined.hash, journal.records.at(-1)!.hash);
    assert.equal(journal.records.at(-1)!.nonce, journal.records[0]!.nonce + 1);
    assert.equal(await lastBatchId(lc), batchId);
    assert.equal(await filled(lc, buy), ONE);
  });

  test('our nonce taken by a settlement of our batch id with other calldata (the operator key used elsewhere): FOREIGN_BATCH, never adopted', async () => {
    const settler = settlerFor(lc, { replaceAfterMs: 300 });
    const { batchId, prepared } = await oneReadyFill(lc, settler);
    // Other fills, valid under the same id: what another holder of the operator key settles instead.
    const other = new Builder(lc, await chainNow(lc));
    await other.pair(await trader(lc, 0n, 10n * QUOTE_PER_FILL), await trader(lc, 10n * ONE, 0n));
    const foreign = await settler.prepare(batchId, other.input());
    assert.equal(foreign.kind, 'ready');
    const foreignCalldata = settleBatchCalldata(batchId, foreign.encoded.data);
    assert.notEqual(foreignCalldata, settleBatchCalldata(batchId, prepared.encoded.data));

    await lc.testClient.setAutomine(false);
    const journal = new MemoryJournal();
    const pending = settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal);
    try {
      await waitFor('the first broadcast', async () => journal.records.length >= 1 && (await inMempool(lc, journal.records[0]!.hash)));
      const first = journal.records[0]!;
      await lc.operator.sendTransaction({
        to: lc.settlement,
        data: foreignCalldata,
        nonce: first.nonce,
        gas: foreign.gasLimit,
        maxFeePerGas: first.maxFeePerGas * 3n,
        maxPriorityFeePerGas: first.maxPriorityFeePerGas * 3n,
      });
      await lc.testClient.mine({ blocks: 1 });
    } finally {
      await lc.testClient.setAutomine(true);
    }
    await assert.rejects(pending, (err: unknown) => err instanceof ChainError && err.code === 'FOREIGN_BATCH');
    assert.equal(await lastBatchId(lc), batchId);
    // What the settlement loop compares: the mined transaction's input, read back from the chain.
    const settled = await settler.findSettled(batchId);
    assert.equal(settled?.status, 'success');
    assert.equal(settled.input, foreignCalldata);
    assert.ok(!journal.records.some((r) => r.hash === settled.hash));
  });
});
describe('BatchSettler across a node restart', () => {
  let lc: LocalChain;
  let dir: string;
  let restarted: Anvil | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'settler-state-'));
    lc = await startLocalChain({ anvil: { args: ['--state', join(dir, 'state.json')] } });
  });
  after(async () => {
    await restarted?.close();
    await lc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('broadcast survives the node going away mid-flight and re-sends the transaction the node lost', async () => {
    const events: string[] = [];
    const settler = settlerFor(lc, { replaceAfterMs: 500 }, events);
    const { buyer, buy, batchId, prepared } = await oneReadyFill(lc, settler);

    await lc.testClient.setAutomine(false); // keep it in the mempool, which does not survive a restart
    const journal = new MemoryJournal();
    const pending = settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, journal);
    await waitFor('the broadcast', async () => journal.records.length >= 1 && (await inMempool(lc, journal.records[0]!.hash)));

    await lc.anvil.close(); // SIGTERM: anvil writes --state on exit (blocks and accounts, not the mempool)
    await waitFor('RPC retries while the node is down', () => events.includes('settler.rpc.retry'));
    await new Promise((r) => setTimeout(r, 300));
    restarted = await startAnvil({ port: lc.anvil.port, args: ['--state', join(dir, 'state.json')] });

    const mined = await pending;
    assert.equal(mined.status, 'success');
    assert.ok(events.includes('settler.broadcast.resend_lost'), events.join(','));
    // Re-sent as it was: same signed transaction, nothing new to journal.
    assert.equal(journal.records.length, 1);
    assert.equal(mined.hash, journal.records[0]!.hash);
    assert.equal(await lastBatchId(lc), batchId);
    assert.deepEqual(await settler.findSettled(batchId), { ...mined, input: settleBatchCalldata(batchId, prepared.encoded.data) });
    assert.equal(await settler.checkConfirmation(mined), 'confirmed');
    assert.equal(await filled(lc, buy), ONE);
    assert.equal(await balanceOf(lc, lc.tokens['BASE']!, buyer.address), ONE);
  });
});
