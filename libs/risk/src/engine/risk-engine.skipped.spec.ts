// Fills the contract skipped (settlementSkipped) and withdrawals paid out of a settlement receipt the shard
// has not matched with its fills yet: what the ledger does, in order and out of order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeInForce } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, testMarket, tokenAddress } from '../testing/fixtures.js';
import { SingleProcessExchange, type FlowEntry } from '../testing/single-process.js';
import { shardForAccount } from './ids.js';
import { RiskEngine } from './risk-engine.js';
import type { BalanceView, RiskCommand, RiskOutcome } from './types.js';

const BASE1 = tokenAddress(1);
const ALICE = accountAddress(1);
const BOB = accountAddress(2);
const LOT = 10n ** 15n;
// Positive maker and taker fees: the contract charges both (it has no rebates).
const market = testMarket(1, { maker: 100, taker: 333 });
const options = { shards: 2, markets: [market] };
const QUOTE_AMOUNT = 3n * 12_347n * 10n; // 3 lots at 12,347 ticks
const MAKER_FEE = (QUOTE_AMOUNT * 100n) / 1_000_000n;
const TAKER_FEE = (QUOTE_AMOUNT * 333n) / 1_000_000n;

function ok(out: RiskOutcome): Extract<RiskOutcome, { ok: true }> {
  if (!out.ok) assert.fail(`${out.code}: ${out.message}`);
  return out;
}

function request(x: SingleProcessExchange, command: RiskCommand): FlowEntry {
  return { kind: 'request', shard: x.shardOf(command.account), command };
}

/**
 * Alice (maker) sells 3 of her 5 lots to Bob (taker, IOC) on the other shard. Returns the log and the chain's
 * records of that fill skipped, as the watcher nets them: the buyer received base and paid quote + its fee,
 * the seller paid base and received quote, paying its fee.
 */
function traded(): { x: SingleProcessExchange; log: FlowEntry[]; skips: FlowEntry[]; before: BalanceView[] } {
  const x = new SingleProcessExchange(options);
  const log = x.record();
  ok(x.submit({ type: 'deposit', account: ALICE, token: BASE1, amount: 5n * LOT }));
  ok(x.submit({ type: 'deposit', account: BOB, token: QUOTE, amount: 10n ** 9n }));
  ok(x.submit(placeRequest(ALICE, market, { isBuy: false, priceTicks: 12_347, lots: 5, nonce: 1n })));
  const before = views(x);
  ok(x.submit(placeRequest(BOB, market, { isBuy: true, priceTicks: 13_000, lots: 3, nonce: 1n, tif: TimeInForce.IOC })));
  assert.equal(x.trades.length, 1);
  const skips = [
    request(x, { type: 'settlementSkipped', account: BOB, token: BASE1, received: 3n * LOT, paid: 0n, fees: 0n }),
    request(x, { type: 'settlementSkipped', account: BOB, token: QUOTE, received: 0n, paid: QUOTE_AMOUNT, fees: TAKER_FEE }),
    request(x, { type: 'settlementSkipped', account: ALICE, token: BASE1, received: 0n, paid: 3n * LOT, fees: 0n }),
    request(x, { type: 'settlementSkipped', account: ALICE, token: QUOTE, received: QUOTE_AMOUNT, paid: 0n, fees: MAKER_FEE }),
  ];
  return { x, log: [...log], skips, before };
}

/** Alice's and Bob's balances in both tokens. */
function views(x: SingleProcessExchange): BalanceView[] {
  return [ALICE, BOB].flatMap((a) => [QUOTE, BASE1].map((t) => x.engineOf(a).balance(a, t)));
}

function replay(log: readonly FlowEntry[]): RiskEngine[] {
  return SingleProcessExchange.replay(options, log);
}

function lawful(engines: readonly RiskEngine[]): void {
  for (const e of engines) assert.deepEqual(e.checkInvariants(), []);
  for (const token of [QUOTE, BASE1]) {
    assert.equal(
      engines.reduce((s, e) => s + e.totals(token).flow, 0n),
      0n,
      `${token}: flows over shards`,
    );
  }
}

describe('RiskEngine: fills the contract skipped (settlementSkipped)', () => {
  it('reverses the fill on both sides: unsettled amounts, funds, fees and flows are back to before it; onchain does not move', () => {
    const { x, skips, before } = traded();
    for (const s of skips) if (s.kind === 'request') ok(x.submit(s.command));
    assert.deepEqual(x.checkInvariants(), []);
    const after = views(x);
    // Alice's sell still rests with 2 lots: it holds only those; the 3 the skipped fill consumed are free again.
    const alice = x.engineOf(ALICE).balance(ALICE, BASE1);
    assert.deepEqual(alice, { ...before[1]!, available: 3n * LOT, heldOrders: 2n * LOT });
    assert.deepEqual(after[0], before[0], "Alice's quote: the receipt and its fee are gone");
    assert.deepEqual(after[2], before[2], "Bob's quote: the IOC's hold was released, the payment and fee came back");
    assert.deepEqual(after[3], before[3], "Bob's base: the receipt is gone");
    for (const e of x.engines) for (const t of [QUOTE, BASE1]) assert.deepEqual([e.totals(t).fees, e.totals(t).flow], [0n, 0n]);
  });

  it('takes back a receipt already committed: from available, then the withdrawal reservation, the rest a deficit paid first by later credits', () => {
    const { x, skips } = traded();
    const bob = x.engineOf(BOB);
    // Bob commits the base he received: 1 lot to a withdrawal request, 2 lots to a resting sell.
    ok(x.submit({ type: 'withdrawalRequested', ts: 10, account: BOB, token: BASE1, amount: LOT }));
    const sell = ok(x.submit(placeRequest(BOB, market, { isBuy: false, priceTicks: 20_000, lots: 2, nonce: 2n })));
    assert.equal(bob.balance(BOB, BASE1).available, 0n);
    const skipBase = skips[0]!;
    if (skipBase.kind !== 'request') assert.fail('a request');
    // Straight to Bob's engine: the cancel it sends for the sell is held back here, so the deficit stands.
    const skipped = ok(bob.apply(skipBase.command));
    assert.deepEqual(
      skipped.cancels.map((c) => c.command.orderId),
      [sell.place!.signed.orderId],
      'the sell holds base the chain does not have for Bob: it is cancelled',
    );
    const b = bob.balance(BOB, BASE1);
    assert.deepEqual([b.available, b.heldWithdrawals, b.withdrawalShortfall, b.heldOrders, b.unsettledIn], [0n, 0n, LOT, 2n * LOT, 0n]);
    assert.equal(bob.deficit(BOB, BASE1), 2n * LOT);
    assert.deepEqual(bob.checkInvariants(), []);
    // The deficit is state: it survives a snapshot (format version 3) exactly.
    const bytes = bob.snapshot();
    assert.match(new TextDecoder().decode(bytes), /"version":3/);
    assert.equal(RiskEngine.restore(bob.config, bytes).stateHash(), bob.stateHash());
    // Nothing new is accepted while the deficit stands.
    const refused = x.submit(placeRequest(BOB, market, { isBuy: false, priceTicks: 20_000, lots: 1, nonce: 3n }));
    assert.equal(!refused.ok && refused.code, 'INSUFFICIENT_FUNDS');
    // A deposit pays the deficit first, then the withdrawal's shortfall.
    ok(x.submit({ type: 'deposit', account: BOB, token: BASE1, amount: LOT }));
    assert.equal(bob.deficit(BOB, BASE1), LOT);
    assert.deepEqual(bob.checkInvariants(), []);
    // The sell is being cancelled already: a second cancel is refused.
    const again = x.submit({ type: 'cancel', ts: 11, account: BOB, signer: BOB, orderId: sell.place!.signed.orderId });
    assert.equal(!again.ok && again.code, 'CANCEL_PENDING');
    // The resting sell's release (the book reports the cancel) pays the rest of the deficit, then the withdrawal.
    x.toBook(skipped.cancels[0]!.marketId, skipped.cancels[0]!.command);
    const c = bob.balance(BOB, BASE1);
    assert.equal(bob.deficit(BOB, BASE1), 0n);
    assert.deepEqual([c.available, c.heldWithdrawals, c.withdrawalShortfall, c.heldOrders], [0n, LOT, 0n, 0n]);
    assert.deepEqual(bob.checkInvariants(), []);
    // The counterparty's records complete the reversal: flows over all shards sum to zero again.
    for (const s of skips.slice(1)) if (s.kind === 'request') ok(x.submit(s.command));
    assert.deepEqual(x.checkInvariants(), []);
    // Nothing waits or is owed any more: the state is written in the oldest format again.
    assert.match(new TextDecoder().decode(bob.snapshot()), /"version":1,/);
  });

  it('waits (parked) when it arrives before the fills it reverses, and ends in the in-order state', () => {
    const { log, skips } = traded();
    const inOrder = replay([...log, ...skips]);
    const engines = replay(log.slice(0, -1));
    for (const s of skips) if (s.kind === 'request') ok(engines[s.shard]!.apply(s.command));
    lawful(engines);
    const bob = engines[shardForAccount(BOB, options.shards)]!;
    assert.deepEqual(bob.parkedChainEvents(BOB, BASE1), { received: 0n, paid: 0n, fees: 0n, skippedReceived: 3n * LOT, skippedPaid: 0n, skippedFees: 0n, withdrawal: 0n });
    assert.ok(engines.every((e) => e.parkedBalanceCount > 0));
    const parkedBytes = bob.snapshot();
    assert.match(new TextDecoder().decode(parkedBytes), /"version":3/);
    assert.equal(RiskEngine.restore(bob.config, parkedBytes).stateHash(), bob.stateHash());
    const last = log.at(-1)!;
    if (last.kind !== 'events') assert.fail('the trade is the last entry');
    for (const e of engines) e.applyBookEvents(last.marketId, last.events);
    lawful(engines);
    assert.ok(engines.every((e) => e.parkedBalanceCount === 0));
    assert.deepEqual(
      engines.map((e) => e.stateHash()),
      inOrder.map((e) => e.stateHash()),
    );
  });

  it('refuses a malformed record with a stable code and changes nothing', () => {
    const { x } = traded();
    const bob = x.engineOf(BOB);
    const cases: [RiskCommand, string][] = [
      [{ type: 'settlementSkipped', account: BOB, token: BASE1, received: -1n, paid: 0n, fees: 0n }, 'INVALID_AMOUNT'],
      [{ type: 'settlementSkipped', account: BOB, token: BASE1, received: 0n, paid: 1n << 128n, fees: 0n }, 'INVALID_AMOUNT'],
      [{ type: 'settlementSkipped', account: BOB, token: BASE1, received: 0n, paid: 0n, fees: 1 as unknown as bigint }, 'INVALID_AMOUNT'],
      [{ type: 'settlementSkipped', account: BOB, token: tokenAddress(9), received: 1n, paid: 0n, fees: 0n }, 'UNKNOWN_TOKEN'],
      [{ type: 'settlementSkipped', account: accountAddress(4), token: BASE1, received: 1n, paid: 0n, fees: 0n }, 'UNKNOWN_ACCOUNT'],
    ];
    for (const [cmd, code] of cases) {
      const e = x.engineOf(cmd.account);
      const before = e.stateHash();
      const out = e.apply(cmd);
      assert.equal(!out.ok && out.code, code);
      assert.equal(e.stateHash(), before);
    }
    assert.deepEqual(bob.checkInvariants(), []);
  });
});

describe('RiskEngine: a withdrawal executed while a settlement receipt is parked (issue 10)', () => {
  /** Alice's quote receipt settled, then withdrawn on chain, all before her shard saw the fill. */
  function withdrawnEarly(amount: bigint): { log: FlowEntry[]; chain: FlowEntry[] } {
    const { x, log } = traded();
    const receipt = QUOTE_AMOUNT - MAKER_FEE;
    assert.ok(amount <= receipt);
    const chain = [
      request(x, { type: 'settled', account: ALICE, token: QUOTE, received: QUOTE_AMOUNT, paid: 0n, fees: MAKER_FEE }),
      request(x, { type: 'withdrawalRequested', ts: 20, account: ALICE, token: QUOTE, amount }),
      request(x, { type: 'withdrawalExecuted', account: ALICE, token: QUOTE, amount }),
    ];
    return { log, chain };
  }

  for (const [name, amount] of [
    ['all of it', QUOTE_AMOUNT - MAKER_FEE],
    ['part of it', 1_234n],
  ] as const) {
    it(`applies it (${name}) once the fills arrive, never refuses it: the in-order state, onchain == the contract's balance`, () => {
      const { log, chain } = withdrawnEarly(amount);
      const inOrder = replay([...log, ...chain]);
      const engines = replay(log.slice(0, -1));
      const alice = engines[shardForAccount(ALICE, options.shards)]!;
      for (const c of chain) {
        if (c.kind !== 'request') continue;
        ok(alice.apply(c.command));
        assert.deepEqual(alice.checkInvariants(), [], `after ${c.command.type}`);
      }
      assert.equal(alice.parkedChainEvents(ALICE, QUOTE).withdrawal, amount);
      const last = log.at(-1)!;
      if (last.kind !== 'events') assert.fail('the trade is the last entry');
      for (const e of engines) e.applyBookEvents(last.marketId, last.events);
      lawful(engines);
      const q = alice.balance(ALICE, QUOTE);
      assert.equal(q.onchain, QUOTE_AMOUNT - MAKER_FEE - amount, "the contract's balanceOf");
      assert.deepEqual([q.available, q.heldWithdrawals, q.unsettledIn, q.feesOwed], [QUOTE_AMOUNT - MAKER_FEE - amount, 0n, 0n, 0n]);
      assert.equal(alice.totals(QUOTE).withdrawals, amount);
      assert.equal(alice.parkedBalanceCount, 0);
      assert.deepEqual(
        engines.map((e) => e.stateHash()),
        inOrder.map((e) => e.stateHash()),
      );
    });
  }

  it('still refuses a withdrawal beyond what the ledger and the parked receipt explain (WITHDRAWAL_NOT_COVERED)', () => {
    const { log, chain } = withdrawnEarly(1_000n);
    const engines = replay(log.slice(0, -1));
    const alice = engines[shardForAccount(ALICE, options.shards)]!;
    const settled = chain[0]!;
    if (settled.kind !== 'request') assert.fail('a request');
    ok(alice.apply(settled.command));
    const before = alice.stateHash();
    const out = alice.apply({ type: 'withdrawalExecuted', account: ALICE, token: QUOTE, amount: QUOTE_AMOUNT - MAKER_FEE + 1n });
    assert.equal(!out.ok && out.code, 'WITHDRAWAL_NOT_COVERED');
    assert.equal(alice.stateHash(), before);
  });
});

// Bob's address must sit on the other shard than Alice's for these flows to cross shards.
assert.notEqual(shardForAccount(ALICE, options.shards), shardForAccount(BOB, options.shards));

describe('RiskEngine: a deficit cancels the open orders it makes unfunded (issue 10)', () => {
  /** Bob commits all his base (3 lots received + 2 deposited) to resting sells of 2, 2 and 1 lots. */
  function committed(): { x: SingleProcessExchange; skips: FlowEntry[]; sells: number[] } {
    const t = traded();
    const { x } = t;
    ok(x.submit({ type: 'deposit', account: BOB, token: BASE1, amount: 2n * LOT }));
    const sells = [2, 2, 1].map((lots, i) => ok(x.submit(placeRequest(BOB, market, { isBuy: false, priceTicks: 20_000, lots, nonce: BigInt(10 + i), ts: 20 + i }))).place!.signed.orderId);
    assert.equal(x.engineOf(BOB).balance(BOB, BASE1).available, 0n);
    return { x, skips: t.skips, sells };
  }

  it('cancels the newest orders holding the token until they cover it, and says so in the outcome; the released holds pay the deficit', () => {
    const { x, skips, sells } = committed();
    const bob = x.engineOf(BOB);
    const skip = skips[0]!;
    if (skip.kind !== 'request') assert.fail('a request');
    const out = ok(x.submit(skip.command));
    // 3 lots taken back: the 1-lot and the newer 2-lot sell are enough; the oldest keeps resting.
    assert.deepEqual(
      out.cancels.map((c) => [c.marketId, c.command.orderId, c.command.accountId]),
      [sells[2]!, sells[1]!].map((id) => [market.marketId, id, bob.accountId(BOB)]),
    );
    assert.ok(out.cancels.every((c) => c.command.ts >= 22), 'stamped no earlier than the books have seen');
    assert.equal(bob.deficit(BOB, BASE1), 0n);
    const b = bob.balance(BOB, BASE1);
    assert.deepEqual([b.available, b.heldOrders, b.withdrawalShortfall], [0n, 2n * LOT, 0n]);
    assert.deepEqual(
      bob.openOrders().map((o) => o.orderId),
      [sells[0]!],
    );
    for (const s of skips.slice(1)) if (s.kind === 'request') ok(x.submit(s.command));
    assert.deepEqual(x.checkInvariants(), []);
  });

  it('a replay (snapshot + the same input) sends the same cancels and ends in the same state', () => {
    const { x, skips } = committed();
    const skip = skips[0]!;
    if (skip.kind !== 'request') assert.fail('a request');
    const live = x.engineOf(BOB);
    const restored = RiskEngine.restore(live.config, live.snapshot());
    const a = ok(live.apply(skip.command, 99));
    const b = ok(restored.apply(skip.command, 99));
    assert.equal(a.cancels.length, 2);
    assert.deepEqual(a.cancels, b.cancels);
    assert.equal(restored.stateHash(), live.stateHash());
  });

  it('asks again when a book refuses the cancel (at that book\'s clock)', () => {
    const { x, skips, sells } = committed();
    const bob = x.engineOf(BOB);
    const skip = skips[0]!;
    if (skip.kind !== 'request') assert.fail('a request');
    const out = ok(bob.apply(skip.command, 1));
    assert.equal(out.cancels.length, 2);
    // The first cancel reaches the book with a ts behind its clock: refused (TIMESTAMP_REGRESSION). Bob's
    // engine asks again at the clock the refusal carries, and that cancel goes through.
    const seen = x.record();
    const first = out.cancels[0]!;
    x.toBook(first.marketId, first.command);
    const about = seen.flatMap((e) => (e.kind === 'events' ? e.events : [])).filter((ev) => 'orderId' in ev && ev.orderId === first.command.orderId);
    assert.deepEqual(
      about.map((ev) => ev.type),
      ['rejected', 'done'],
    );
    x.toBook(out.cancels[1]!.marketId, out.cancels[1]!.command);
    assert.equal(bob.deficit(BOB, BASE1), 0n);
    assert.deepEqual(
      bob.openOrders().map((o) => o.orderId),
      [sells[0]!],
    );
    assert.deepEqual(bob.checkInvariants(), []);
  });
});
