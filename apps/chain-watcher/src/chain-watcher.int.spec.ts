// The chain watcher on anvil and the embedded log: every contract event the ledger needs arrives once, in
// chain order, on its account's shard; a reorg within the confirmation depth never leaks an event; a reorg
// below it halts the watcher; a restart resumes without gap or duplicate; reconciliation sees a drift.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeBatch, hashOrder, settleBatch, settlementAbi, signOrder, startLocalChain, type LocalChain, type Order } from '@parallax/chain';
import { DEFAULT_RISK_TOPICS, decodeChainEventBatch, type ChainEvent } from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { shardForAccount } from '@parallax/risk';
import { waitFor } from '@parallax/settlement/testing';
import { createEmbeddedTransport, type Transport } from '@parallax/transport';
import { keccak256, toHex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startChainWatcher, type ChainWatcherHandle } from './app/bootstrap.js';
import { loadChainWatcherConfig } from './config/chain-watcher.config.js';

const ONE = 10n ** 18n;
const PRICE = 2_000_000_000n;
const SHARDS = 3;
const TOPIC = DEFAULT_RISK_TOPICS.chainEvents;
const log = createLogger('chain-watcher-test', 'warn');
// Every transaction states its gas limit, as lc.fund does. viem's estimate is exact for the pending block,
// and the gas of several calls depends on the block's time: requestWithdrawal stores `availableAt = now +
// delay`, and re-requesting in a block of the same second as the previous request rewrites an unchanged slot
// (cheap), one second later a changed one (2,800 gas more). When the second turned between the estimate and
// the block that mined it, the transaction ran out of gas and came back `reverted` (seen in CI; 3 runs in 45
// with three runs at once on this 2-core machine).
const GAS = 300_000n;

interface Committed {
  readonly partition: number;
  readonly offset: number;
  readonly events: readonly ChainEvent[];
}

function person(label: string): LocalAccount {
  return privateKeyToAccount(keccak256(toHex(`chain-watcher-${label}`)));
}

async function readEvents(t: Transport, topic: string): Promise<Committed[]> {
  const out: Committed[] = [];
  for (let p = 0; p < SHARDS; p++) {
    for await (const batch of t.read(topic, p, 0)) for (const m of batch) out.push({ partition: p, offset: m.offset, events: decodeChainEventBatch(m.value).events });
  }
  return out;
}

const ofAccount = (all: readonly Committed[], account: string): ChainEvent[] => all.flatMap((c) => c.events.filter((e) => e.account === account.toLowerCase()));

/** Polls `cond` (it may throw to fail at once) until it holds. */
function until(what: string, cond: () => boolean): Promise<boolean> {
  return waitFor(what, () => Promise.resolve(cond() ? true : undefined), 60_000, 20);
}

function start(lc: LocalChain, t: Transport, env: Record<string, string> = {}): Promise<ChainWatcherHandle> {
  const config = loadChainWatcherConfig({
    RPC_URL: lc.anvil.rpcUrl,
    SETTLEMENT_ADDRESS: lc.settlement,
    SETTLEMENT_DEPLOY_BLOCK: '1',
    CHAIN_CONFIRMATIONS: '3',
    CHAIN_WATCHER_POLL_MS: '20',
    CHAIN_WATCHER_BLOCK_RANGE: '7',
    ACCOUNT_SHARDS: String(SHARDS),
    CHAIN_WATCHER_HTTP_PORT: '0',
    ...env,
  });
  return startChainWatcher(config, t, { logger: log });
}

/** Confirms everything mined so far and waits until the watcher committed it. */
async function settleIn(lc: LocalChain, h: ChainWatcherHandle, confirmations = 3): Promise<bigint> {
  const target = await lc.publicClient.getBlockNumber({ cacheTime: 0 });
  await lc.testClient.mine({ blocks: confirmations - 1 });
  await until(`block ${target} committed`, () => {
    const health = h.watcher.health();
    if (health.status === 'halted') throw new Error(`the watcher halted: ${health.halt ?? ''}`);
    return (h.watcher.committed?.block ?? 0n) >= target;
  });
  return target;
}

/** The value of one sample of /metrics (the registry adds a service label to every sample). */
async function metric(h: ChainWatcherHandle, name: string, labels: Readonly<Record<string, string>>): Promise<string | undefined> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line?.split(' ').pop();
}

async function withGas(lc: LocalChain, a: LocalAccount): Promise<LocalAccount> {
  await lc.testClient.setBalance({ address: a.address, value: ONE });
  return a;
}

describe('chain watcher: every event once, in order, on its shard (anvil + embedded log)', () => {
  let lc: LocalChain;
  let t: Transport;
  let h: ChainWatcherHandle;
  before(async () => {
    lc = await startLocalChain({ cancelDelay: 60n });
    t = createEmbeddedTransport();
  });
  after(async () => {
    await h.close();
    await t.close();
    await lc.close();
  });

  it('maps deposits, withdrawals (replaced, cancelled, partly paid), settled fills with fees, keys and on-chain cancels', async () => {
    h = await start(lc, t);
    const BASE = lc.tokens['BASE']!;
    const QUOTE = lc.tokens['QUOTE']!;
    const seller = await withGas(lc, person('seller'));
    const buyer = await withGas(lc, person('buyer'));
    const key = person('key').address;
    await lc.fund(seller.address, BASE, 10n * ONE);
    await lc.fund(buyer.address, QUOTE, 100_000_000_000n);
    const s = lc.wallet(seller);
    const b = lc.wallet(buyer);
    const tx = async (p: Promise<`0x${string}`>): Promise<void> => {
      const r = await lc.publicClient.waitForTransactionReceipt({ hash: await p });
      assert.equal(r.status, 'success');
    };
    const settlement = lc.settlement;
    await tx(s.writeContract({ address: settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [BASE, 2n * ONE], gas: GAS }));
    await tx(s.writeContract({ address: settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [BASE, 3n * ONE], gas: GAS }));
    await tx(s.writeContract({ address: settlement, abi: settlementAbi, functionName: 'cancelWithdrawal', args: [BASE], gas: GAS }));
    await tx(s.writeContract({ address: settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [BASE, 9n * ONE], gas: GAS }));

    // A trade settles while the request is pending: 1 BASE for 2000 QUOTE, buyer fee 0.2%, seller fee 0.1%.
    const now = (await lc.publicClient.getBlock()).timestamp;
    const order = (who: LocalAccount, isBuy: boolean): Order => ({
      trader: who.address,
      baseToken: BASE,
      quoteToken: QUOTE,
      isBuy,
      price: PRICE,
      size: ONE,
      maxFeeRate: 2_000,
      expiry: now + 86_400n,
      nonce: 1n,
    });
    const sell = await signOrder(seller, lc.domain, order(seller, false));
    const buy = await signOrder(buyer, lc.domain, order(buyer, true));
    const batch = encodeBatch({ domain: lc.domain, orders: [sell, buy], fills: [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE, buyFeeRate: 2_000, sellFeeRate: 1_000 }] });
    const receipt = await settleBatch(lc.operator, lc.publicClient, settlement, 1n, batch);
    assert.equal(receipt.status, 'success');
    // The operator pays the 9 requested at once: only 9 are left (10 - 1 sold), so all of it.
    await tx(lc.operator.writeContract({ address: settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [seller.address, BASE], gas: GAS }));
    // A request larger than what is left is paid in part: the rest of the reservation is released.
    await lc.fund(seller.address, BASE, 5n * ONE);
    await tx(s.writeContract({ address: settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [BASE, 4n * ONE], gas: GAS }));
    await tx(b.writeContract({ address: settlement, abi: settlementAbi, functionName: 'authorizeTradingKey', args: [key, now + 10n * 86_400n], gas: GAS }));
    await tx(b.writeContract({ address: settlement, abi: settlementAbi, functionName: 'revokeTradingKey', args: [key], gas: GAS }));
    await tx(b.writeContract({ address: settlement, abi: settlementAbi, functionName: 'cancelNoncesBelow', args: [7n], gas: GAS }));
    const hash = hashOrder(lc.domain, order(buyer, true));
    await tx(b.writeContract({ address: settlement, abi: settlementAbi, functionName: 'cancelOrder', args: [hash], gas: GAS }));
    await settleIn(lc, h);

    const all = await readEvents(t, TOPIC);
    for (const c of all) for (const e of c.events) assert.equal(shardForAccount(e.account, SHARDS), c.partition, 'every event on its account shard');
    const S = seller.address.toLowerCase();
    const B = buyer.address.toLowerCase();
    const base = BASE.toLowerCase();
    const quote = QUOTE.toLowerCase();
    const sellerEvents = ofAccount(all, S).map((e) => (e.type === 'withdrawalRequested' ? { ...e, ts: 0 } : e));
    assert.deepEqual(sellerEvents, [
      { type: 'deposit', account: S, token: base, amount: 10n * ONE },
      { type: 'withdrawalRequested', ts: 0, account: S, token: base, amount: 2n * ONE },
      { type: 'withdrawalCancelled', account: S, token: base, amount: 2n * ONE },
      { type: 'withdrawalRequested', ts: 0, account: S, token: base, amount: 3n * ONE },
      { type: 'withdrawalCancelled', account: S, token: base, amount: 3n * ONE },
      { type: 'withdrawalRequested', ts: 0, account: S, token: base, amount: 9n * ONE },
      { type: 'settled', account: S, token: base, received: 0n, paid: ONE, fees: 0n },
      { type: 'settled', account: S, token: quote, received: 2_000_000_000n, paid: 0n, fees: 2_000_000n },
      { type: 'withdrawalExecuted', account: S, token: base, amount: 9n * ONE },
      { type: 'deposit', account: S, token: base, amount: 5n * ONE },
      { type: 'withdrawalRequested', ts: 0, account: S, token: base, amount: 4n * ONE },
    ]);
    const buyerEvents = ofAccount(all, B).map((e) => ('ts' in e ? { ...e, ts: 0 } : e));
    assert.deepEqual(buyerEvents, [
      { type: 'deposit', account: B, token: quote, amount: 100_000_000_000n },
      { type: 'settled', account: B, token: base, received: ONE, paid: 0n, fees: 0n },
      { type: 'settled', account: B, token: quote, received: 0n, paid: 2_000_000_000n, fees: 4_000_000n },
      { type: 'keyAuthorized', account: B, key: key.toLowerCase() },
      { type: 'keyRevoked', account: B, key: key.toLowerCase() },
      { type: 'nonceFloorRaised', ts: 0, account: B, floor: 7n },
      { type: 'orderCancelled', ts: 0, account: B, orderHash: hash },
    ]);
    // ts: the block time in ms, or the watcher's clock when that is later.
    const floor = ofAccount(all, B).find((e) => e.type === 'nonceFloorRaised');
    assert.ok(floor !== undefined && 'ts' in floor && floor.ts >= Number(now) * 1000);

    // The executed withdrawal that paid less than requested: pay 4 of what is left, after a request of 4 with 5 + 0 left.
    await tx(lc.operator.writeContract({ address: settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [seller.address, BASE], gas: GAS }));
    await settleIn(lc, h);
    const after1 = ofAccount(await readEvents(t, TOPIC), S);
    assert.deepEqual(after1.slice(sellerEvents.length), [{ type: 'withdrawalExecuted', account: S, token: base, amount: 4n * ONE }]);

    // The ledger view agrees with balanceOf for every account and token it saw.
    assert.equal(await metric(h, 'parallax_reconciliation_drift_base_units', { token: base }), '0');
    assert.equal(await metric(h, 'parallax_reconciliation_drift_base_units', { token: quote }), '0');
    assert.equal(await metric(h, 'parallax_reconciliation_checks_total', { result: 'drift' }), undefined);
    assert.equal(await metric(h, 'parallax_chain_watcher_events_total', { kind: 'settled' }), '4');
    const health = await fetch(`${h.url}/ready`);
    assert.equal(health.status, 200);
  });

  it('a request replaced and then paid in part releases the unpaid reservation', async () => {
    const BASE = lc.tokens['BASE']!;
    const w = await withGas(lc, person('partial'));
    await lc.fund(w.address, BASE, 3n * ONE);
    const wallet = lc.wallet(w);
    await lc.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [BASE, 3n * ONE], gas: GAS }) });
    // The balance shrinks below the request before it is executed: a sale settles 1 BASE away.
    const buyer = await withGas(lc, person('partial-buyer'));
    await lc.fund(buyer.address, lc.tokens['QUOTE']!, 10_000_000_000n);
    const now = (await lc.publicClient.getBlock()).timestamp;
    const mk = (who: LocalAccount, isBuy: boolean): Order => ({ trader: who.address, baseToken: BASE, quoteToken: lc.tokens['QUOTE']!, isBuy, price: PRICE, size: ONE, maxFeeRate: 0, expiry: now + 86_400n, nonce: 2n });
    const batch = encodeBatch({ domain: lc.domain, orders: [await signOrder(w, lc.domain, mk(w, false)), await signOrder(buyer, lc.domain, mk(buyer, true))], fills: [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE }] });
    const id = (await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'lastBatchId' })) + 1n;
    assert.equal((await settleBatch(lc.operator, lc.publicClient, lc.settlement, id, batch)).status, 'success');
    await lc.publicClient.waitForTransactionReceipt({
      hash: await lc.operator.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [w.address, BASE], gas: GAS }),
    });
    await settleIn(lc, h);
    const W = w.address.toLowerCase();
    const events = ofAccount(await readEvents(t, TOPIC), W);
    assert.deepEqual(events.slice(-2), [
      { type: 'withdrawalExecuted', account: W, token: BASE.toLowerCase(), amount: 2n * ONE },
      { type: 'withdrawalCancelled', account: W, token: BASE.toLowerCase(), amount: ONE },
    ]);
  });

  it('maps the fills a batch skipped for lack of funds to settlementSkipped, read from the batch calldata', async () => {
    const BASE = lc.tokens['BASE']!;
    const QUOTE = lc.tokens['QUOTE']!;
    const thin = person('thin');
    const seller = person('skip-seller');
    await lc.fund(thin.address, QUOTE, 1_000n);
    await lc.fund(seller.address, BASE, ONE);
    const now = (await lc.publicClient.getBlock()).timestamp;
    const mk = (who: LocalAccount, isBuy: boolean): Order => ({ trader: who.address, baseToken: BASE, quoteToken: QUOTE, isBuy, price: PRICE, size: ONE, maxFeeRate: 2_000, expiry: now + 86_400n, nonce: 3n });
    const batch = encodeBatch({
      domain: lc.domain,
      orders: [await signOrder(thin, lc.domain, mk(thin, true)), await signOrder(seller, lc.domain, mk(seller, false))],
      fills: [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE, buyFeeRate: 2_000, sellFeeRate: 1_000 }],
    });
    const id = (await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'lastBatchId' })) + 1n;
    assert.equal((await settleBatch(lc.operator, lc.publicClient, lc.settlement, id, batch)).status, 'success');
    await settleIn(lc, h);
    const all = await readEvents(t, TOPIC);
    const T = thin.address.toLowerCase();
    const S = seller.address.toLowerCase();
    const base = BASE.toLowerCase();
    const quote = QUOTE.toLowerCase();
    assert.deepEqual(ofAccount(all, T), [
      { type: 'deposit', account: T, token: quote, amount: 1_000n },
      { type: 'settlementSkipped', account: T, token: base, received: ONE, paid: 0n, fees: 0n },
      { type: 'settlementSkipped', account: T, token: quote, received: 0n, paid: 2_000_000_000n, fees: 4_000_000n },
    ]);
    assert.deepEqual(ofAccount(all, S), [
      { type: 'deposit', account: S, token: base, amount: ONE },
      { type: 'settlementSkipped', account: S, token: base, received: 0n, paid: ONE, fees: 0n },
      { type: 'settlementSkipped', account: S, token: quote, received: 2_000_000_000n, paid: 0n, fees: 2_000_000n },
    ]);
    assert.equal(await metric(h, 'parallax_chain_watcher_fills_skipped_total', {}), '1');
    assert.equal(await metric(h, 'parallax_reconciliation_drift_base_units', { token: base }), '0');
  });

  it('a restart on the same log resumes after the committed block: nothing twice, nothing lost', async () => {
    const BASE = lc.tokens['BASE']!;
    const before = await readEvents(t, TOPIC);
    const committed = h.watcher.committed!.block;
    await h.close();
    // Mined while no watcher runs.
    const r = await withGas(lc, person('restart'));
    for (let i = 1n; i <= 5n; i++) await lc.fund(r.address, BASE, i);
    h = await start(lc, t);
    assert.equal(h.watcher.committed?.block, committed);
    for (let i = 6n; i <= 8n; i++) await lc.fund(r.address, BASE, i);
    await settleIn(lc, h);
    const afterRestart = await readEvents(t, TOPIC);
    for (const c of before) {
      assert.deepEqual(
        afterRestart.find((x) => x.partition === c.partition && x.offset === c.offset),
        c,
        'what was committed stays as it was',
      );
    }
    const deposits = ofAccount(afterRestart, r.address).map((e) => (e.type === 'deposit' ? e.amount : -1n));
    assert.deepEqual(deposits, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
  });
});

describe('chain watcher and reorgs (anvil_snapshot / anvil_revert)', () => {
  let lc: LocalChain;
  let t: Transport;
  const handles: ChainWatcherHandle[] = [];
  before(async () => {
    lc = await startLocalChain();
    t = createEmbeddedTransport();
  });
  after(async () => {
    for (const h of handles) await h.close();
    await t.close();
    await lc.close();
  });

  it('never emits an event that a reorg within the confirmation depth removed', async () => {
    const h = await start(lc, t, { CHAIN_CONFIRMATIONS: '4', TOPIC_CHAIN_EVENTS: 'shallow.events', TOPIC_CHAIN_WATCHER_PROGRESS: 'shallow.progress' });
    handles.push(h);
    const BASE = lc.tokens['BASE']!;
    await settleIn(lc, h, 4);
    const snapshot = await lc.testClient.snapshot();
    const ghost = person('ghost');
    // Two blocks (mint, deposit) on top of the snapshot: fewer than the depth, so neither is confirmed. A
    // watcher that ignored the depth would emit the deposit now.
    await lc.fund(ghost.address, BASE, 77n);
    const seen = await lc.publicClient.getBlockNumber({ cacheTime: 0 });
    // The watcher saw the head with the deposit in it.
    await until('the watcher to see the head', () => BigInt(h.watcher.health().headBlock ?? '0') >= seen);
    await lc.testClient.revert({ id: snapshot });
    const real = person('real');
    await lc.fund(real.address, BASE, 88n);
    await lc.testClient.mine({ blocks: 6 });
    await settleIn(lc, h, 4);
    assert.ok(h.watcher.committed!.block > seen, 'the watcher went past the reorged heights');
    const all = await readEvents(t, 'shallow.events');
    assert.deepEqual(ofAccount(all, ghost.address), [], 'the reorged deposit never reached the topic');
    assert.deepEqual(ofAccount(all, real.address), [{ type: 'deposit', account: real.address.toLowerCase(), token: BASE.toLowerCase(), amount: 88n }]);
    assert.equal(h.watcher.health().status, 'following');
  });

  it('halts, and emits nothing more, when a reorg goes below the confirmation depth', async () => {
    const h = await start(lc, t, { CHAIN_CONFIRMATIONS: '2', TOPIC_CHAIN_EVENTS: 'deep.events', TOPIC_CHAIN_WATCHER_PROGRESS: 'deep.progress' });
    handles.push(h);
    const BASE = lc.tokens['BASE']!;
    await settleIn(lc, h, 2);
    const snapshot = await lc.testClient.snapshot();
    const gone = person('gone');
    await lc.fund(gone.address, BASE, 5n);
    await settleIn(lc, h, 2);
    const all = await readEvents(t, 'deep.events');
    assert.equal(ofAccount(all, gone.address).length, 1, 'confirmed and committed');
    const stopped = h.stopped.then(
      () => 'resolved',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    await lc.testClient.revert({ id: snapshot });
    const other = person('other');
    await lc.fund(other.address, BASE, 6n);
    await lc.testClient.mine({ blocks: 5 });
    assert.match(await stopped, /^CHAIN_REORG_BELOW_DEPTH/);
    const res = await fetch(`${h.url}/ready`);
    assert.equal(res.status, 503);
    assert.equal((await fetch(`${h.url}/health`)).status, 200, 'a halt is not cured by a restart: the process stays live');
    assert.equal(await metric(h, 'parallax_chain_watcher_halted', { reason: 'CHAIN_REORG_BELOW_DEPTH' }), '1');
    assert.deepEqual(ofAccount(await readEvents(t, 'deep.events'), other.address), [], 'nothing of the new branch');
  });

  it('reconciliation reports a ledger that missed a deposit as a drift', async () => {
    const BASE = lc.tokens['BASE']!;
    const late = await withGas(lc, person('late'));
    await lc.fund(late.address, BASE, 1_000n);
    const from = (await lc.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    // A watcher that starts after the first deposit: its ledger view lacks 1000.
    const h = await start(lc, t, { SETTLEMENT_DEPLOY_BLOCK: String(from), TOPIC_CHAIN_EVENTS: 'late.events', TOPIC_CHAIN_WATCHER_PROGRESS: 'late.progress' });
    handles.push(h);
    await lc.fund(late.address, BASE, 1n);
    await settleIn(lc, h);
    const token = BASE.toLowerCase();
    assert.equal(await metric(h, 'parallax_reconciliation_drift_base_units', { token }), '-1000');
    assert.equal(await metric(h, 'parallax_reconciliation_drifting_accounts', { token }), '1');
  });
});

describe('chain watcher boot checks', () => {
  it('refuses a wrong chain id, a missing contract and a chain-events topic with another shard count', async () => {
    const lc = await startLocalChain();
    const t = createEmbeddedTransport();
    try {
      await assert.rejects(start(lc, t, { CHAIN_ID: '1' }), /CHAIN_ID: 1 configured/);
      await assert.rejects(start(lc, t, { SETTLEMENT_ADDRESS: person('nobody').address }), /SETTLEMENT_ADDRESS: no contract/);
      await t.ensureTopics([{ name: 'two.events', partitions: 2 }]);
      await assert.rejects(start(lc, t, { TOPIC_CHAIN_EVENTS: 'two.events', ENSURE_TOPICS: 'false' }), /ACCOUNT_SHARDS: 3, but two.events has 2 partitions/);
      // A progress record it cannot read: refusing to start beats guessing where to resume (a gap or a repeat).
      await t.ensureTopics([{ name: 'bad.progress', partitions: 1, compacted: true }]);
      const producer = await t.producer();
      await producer.send('bad.progress', [{ key: `${lc.anvil.chainId}:${lc.settlement.toLowerCase()}`, value: Buffer.from('{"v":1,"block":"x"}'), partition: 0 }]);
      await producer.close();
      await assert.rejects(start(lc, t, { TOPIC_CHAIN_WATCHER_PROGRESS: 'bad.progress', TOPIC_CHAIN_EVENTS: 'bad.events' }), /^WatcherError: MALFORMED_PROGRESS|MALFORMED_PROGRESS/);
    } finally {
      await t.close();
      await lc.close();
    }
  });
});
