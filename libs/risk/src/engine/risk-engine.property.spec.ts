// Laws of the risk engine under random flows through real order books, on 1 to 3 account shards:
// no field ever negative, holds always equal what open orders can still cost, per-token conservation to the
// base unit (per shard, and fill flows summing to zero over shards), every trade between orders risk funded,
// every hold released or consumed in the end, and replay / snapshot + rest == the uninterrupted run.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, testMarket } from '../testing/fixtures.js';
import { SingleProcessExchange, type FlowEntry, type SingleProcessOptions } from '../testing/single-process.js';
import { RiskEngine } from './risk-engine.js';
import type { Address, RiskCommand } from './types.js';

const MARKETS = [testMarket(1, { maker: -100, taker: 500 }), testMarket(2, { maker: 250, taker: 250 })];
const TOKENS: Address[] = [QUOTE, MARKETS[0]!.baseToken, MARKETS[1]!.baseToken];
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => accountAddress(i + 1));

type Action =
  | { k: 'deposit'; a: number; t: number; amount: bigint }
  | { k: 'place'; a: number; m: number; isBuy: boolean; price: number; lots: number; kind: number; stp: number; nonce: number; life: number }
  | { k: 'cancel'; a: number; pick: number }
  | { k: 'expire'; step: number }
  | { k: 'wreq'; a: number; t: number; amount: bigint; intoHeld: number }
  | { k: 'wcancel'; a: number; t: number; amount: bigint }
  | { k: 'wexec'; a: number; t: number; amount: bigint }
  | { k: 'nonce'; a: number; nonce: number }
  | { k: 'settle'; a: number; t: number; part: number }
  | { k: 'skip'; pick: number; drain: boolean };

const acct = fc.nat({ max: ACCOUNTS.length - 1 });
const token = fc.nat({ max: TOKENS.length - 1 });
/**
 * An amount in units of about 2 lots' worth of the token (2e15 base, 2,000 quote at 100 ticks) plus odd
 * dust, so that funds run out now and then but not always (fast-check's own bigints are mostly tiny).
 */
function amount(maxUnits: number): fc.Arbitrary<bigint> {
  return fc.tuple(fc.integer({ min: 0, max: maxUnits }), fc.nat({ max: 999 })).map(([u, dust]) => BigInt(u) * 1_000n + BigInt(dust) + 1n);
}

/** Scales an amount() to its token. */
function scaled(v: bigint, t: number): bigint {
  return t === 0 ? (v / 1_000n) * 2_000n + (v % 1_000n) : (v / 1_000n) * 2n * 10n ** 15n + (v % 1_000n);
}

const ACTIONS = [
  { weight: 3, arbitrary: fc.record({ k: fc.constant('deposit' as const), a: acct, t: token, amount: amount(50) }) },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('place' as const),
      a: acct,
      m: fc.nat({ max: 1 }),
      isBuy: fc.boolean(),
      price: fc.integer({ min: 95, max: 105 }),
      lots: fc.integer({ min: 1, max: 12 }),
      kind: fc.nat({ max: 5 }),
      stp: fc.nat({ max: 4 }),
      nonce: fc.nat({ max: 150 }),
      life: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cancel' as const), a: acct, pick: fc.nat({ max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('expire' as const), step: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wreq' as const), a: acct, t: token, amount: amount(75), intoHeld: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 120 })) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wcancel' as const), a: acct, t: token, amount: amount(8) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wexec' as const), a: acct, t: token, amount: amount(8) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('nonce' as const), a: acct, nonce: fc.nat({ max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('settle' as const), a: acct, t: token, part: fc.integer({ min: 1, max: 100 }) }) },
] as const;
const action: fc.Arbitrary<Action> = fc.oneof(...ACTIONS);
/** The same flows with fills the contract skips (both sides of one recent fill of market 2). */
const actionWithSkips: fc.Arbitrary<Action> = fc.oneof(...ACTIONS, {
  weight: 3,
  arbitrary: fc.record({ k: fc.constant('skip' as const), pick: fc.nat({ max: 20 }), drain: fc.boolean() }),
});

/**
 * The chain's records of one trade skipped for lack of funds, as the watcher nets them per account and token
 * (buyer: received base, paid quote + its fee; seller: paid base, received quote, paid its fee), or null if
 * the ledger's unsettled amounts no longer cover them (settlements took them). Only trades of market 2 (no
 * rebate): the watcher maps a skipped fill's rebate into `received`, which reverseSkipped takes back through
 * the shard's fill flow rather than its fee total (balances and per-shard conservation are exact; the split
 * between flow and fees is not), so the cross-shard "flows sum to zero" law is not asserted for them.
 */
function skipOf(x: SingleProcessExchange, pick: number): Extract<RiskCommand, { type: 'settlementSkipped' }>[] | null {
  const trades = x.trades.filter((t) => t.marketId === 2);
  const t = trades[trades.length - 1 - (pick % Math.max(trades.length, 1))];
  if (t === undefined) return null;
  const m = MARKETS[1]!;
  const address = (id: number): Address => x.engines[id % x.engines.length]!.accountAddress(id)!;
  const quote = BigInt(t.size) * BigInt(t.price) * ((m.lotSize * m.tickSize) / 10n ** 18n);
  const base = BigInt(t.size) * m.lotSize;
  const fee = (rate: number): bigint => (quote * BigInt(rate)) / 1_000_000n;
  const takerBuys = t.takerSide === Side.Buy;
  const buyer = address(takerBuys ? t.takerAccountId : t.makerAccountId);
  const seller = address(takerBuys ? t.makerAccountId : t.takerAccountId);
  const net = new Map<string, { account: Address; token: Address; received: bigint; paid: bigint; fees: bigint }>();
  const entry = (account: Address, token: Address) => {
    const k = `${account}/${token}`;
    let e = net.get(k);
    if (e === undefined) net.set(k, (e = { account, token, received: 0n, paid: 0n, fees: 0n }));
    return e;
  };
  entry(buyer, m.baseToken).received += base;
  const bq = entry(buyer, QUOTE);
  bq.paid += quote;
  bq.fees += fee(takerBuys ? m.takerFeeRate : m.makerFeeRate);
  entry(seller, m.baseToken).paid += base;
  const sq = entry(seller, QUOTE);
  sq.received += quote;
  sq.fees += fee(takerBuys ? m.makerFeeRate : m.takerFeeRate);
  for (const e of net.values()) {
    const b = x.engineOf(e.account).balance(e.account, e.token);
    if (b.unsettledIn < e.received || b.unsettledOut < e.paid || b.feesOwed < e.fees) return null;
  }
  return [...net.values()].map((e) => ({ type: 'settlementSkipped' as const, ...e }));
}

/** Every hold is released or consumed: cancel what is left, and nothing stays held for orders; every law holds. */
function assertEveryHoldReleased(x: SingleProcessExchange): void {
  let ts = 1_000_000;
  for (const e of x.engines) {
    for (const o of e.openOrders()) {
      const account = e.accountAddress(o.accountId)!;
      if (!o.cancelRequested) x.submit({ type: 'cancel', ts: ts++, account, signer: account, orderId: o.orderId });
    }
  }
  for (const e of x.engines) {
    assert.equal(e.openOrderCount, 0);
    for (const a of e.accountAddresses()) for (const t of TOKENS) assert.equal(e.balance(a, t).heldOrders, 0n);
  }
  assert.deepEqual(x.checkInvariants(), []);
}

/** Snapshots of the engines after the first `cut` log entries, restored and fed the rest, end as `x`'s engines. */
function assertResumesFromSnapshot(x: SingleProcessExchange, options: SingleProcessOptions, log: readonly FlowEntry[], cut: number): void {
  const head = SingleProcessExchange.replay(options, log.slice(0, cut));
  const resumed = head.map((e) => RiskEngine.restore(e.config, e.snapshot()));
  for (const entry of log.slice(cut)) {
    if (entry.kind === 'request') resumed[entry.shard]!.apply(entry.command);
    else for (const e of resumed) e.applyBookEvents(entry.marketId, entry.events);
  }
  assert.deepEqual(
    resumed.map((e) => e.stateHash()),
    x.engines.map((e) => e.stateHash()),
  );
}

/** Runs actions through a single-process exchange, checking every law after every step. */
function run(shards: number, actions: readonly Action[], record = false): { x: SingleProcessExchange; options: SingleProcessOptions; log: ReturnType<SingleProcessExchange['record']> | null } {
  // ts in seconds (tsPerSecond 1) so signed expiries fall inside the run.
  const options: SingleProcessOptions = { shards, markets: MARKETS, tsPerSecond: 1, auditFills: true };
  const x = new SingleProcessExchange(options);
  const log = record ? x.record() : null;
  let ts = 1;
  // Everyone starts with some of every token (odd amounts), so most orders are funded and trade.
  for (const [i, account] of ACCOUNTS.entries()) {
    for (const t of TOKENS) {
      const amount = t === QUOTE ? 150_000n + BigInt(i * 7) : 6n * 10n ** 16n + BigInt(i * 13);
      assert.equal(x.submit({ type: 'deposit', account, token: t, amount }).ok, true);
    }
  }
  const check = (step: string): void => {
    const broken = x.checkInvariants();
    assert.deepEqual(broken, [], `after ${step}`);
    assert.deepEqual(x.violations, [], `after ${step}`);
    // No order executed without funds: a fill only ever spends what its order held.
    assert.deepEqual(x.auditFailures, [], `after ${step}`);
    // Once the books reported the cancels a claim sent (here at once), no account owes a deficit or a
    // withdrawal's shortfall in a token while its open orders still hold some of it: those holds were
    // funds the chain does not have for it, and they would have matched into an underfunded fill.
    for (const e of x.engines) {
      for (const a of e.accountAddresses()) {
        for (const t of TOKENS) {
          const b = e.balance(a, t);
          const claim = e.deficit(a, t) + b.withdrawalShortfall;
          if (claim > 0n) assert.equal(b.heldOrders, 0n, `after ${step}: ${a} owes ${claim} of ${t} (deficit ${e.deficit(a, t)}) while its orders hold ${b.heldOrders}`);
        }
      }
    }
  };
  for (const [i, act] of actions.entries()) {
    ts++;
    const account = 'a' in act ? ACCOUNTS[act.a]! : ACCOUNTS[0]!;
    let cmd: RiskCommand | null = null;
    switch (act.k) {
      case 'skip': {
        // Every side of one fill, each on its own shard: the laws are checked once all are in.
        const records = skipOf(x, act.pick);
        // Half of the time the receiving sides first withdraw every free unit the chain holds for them
        // (receipts of unsettled fills included, up to the on-chain balance), so the skip takes back funds
        // that are gone: the deficit path.
        for (const r of act.drain ? (records ?? []) : []) {
          const b = x.engineOf(r.account).balance(r.account, r.token);
          const amount = b.available < b.onchain ? b.available : b.onchain;
          if (r.received === 0n || amount === 0n) continue;
          assert.equal(x.submit({ type: 'withdrawalRequested', ts, account: r.account, token: r.token, amount }).ok, true);
          assert.equal(x.submit({ type: 'withdrawalExecuted', account: r.account, token: r.token, amount }).ok, true);
        }
        for (const r of records ?? []) {
          const out = x.submit(r);
          if (!out.ok) assert.fail(`skip refused: ${out.message}`);
          seen.claimCancels += out.cancels.length;
          // A skip that took back committed funds left a deficit, or (when open orders held enough) had them
          // cancelled at once: the single-process exchange delivers those cancels, and their released holds
          // pay the deficit before it can be seen here.
          if (out.cancels.length > 0 || x.engineOf(r.account).deficit(r.account, r.token) > 0n) seen.deficits++;
        }
        if (records !== null) seen.skips++;
        break;
      }
      case 'deposit':
        cmd = { type: 'deposit', account, token: TOKENS[act.t]!, amount: scaled(act.amount, act.t) };
        break;
      case 'place': {
        const m = MARKETS[act.m]!;
        const [orderType, tif, postOnly] = (
          [
            [OrderType.Limit, TimeInForce.GTC, false],
            [OrderType.Limit, TimeInForce.IOC, false],
            [OrderType.Limit, TimeInForce.GTT, false],
            [OrderType.Market, TimeInForce.IOC, false],
            [OrderType.Market, TimeInForce.FOK, false],
            [OrderType.Limit, TimeInForce.GTC, true],
          ] as const
        )[act.kind]!;
        cmd = placeRequest(account, m, {
          ts,
          isBuy: act.isBuy,
          priceTicks: act.price,
          lots: act.lots,
          orderType,
          tif,
          postOnly,
          expiresAt: tif === TimeInForce.GTT ? ts + act.life : 0,
          stp: act.stp as StpMode,
          nonce: BigInt(act.nonce),
          expiry: BigInt(ts + act.life * 2 - 8),
        });
        break;
      }
      case 'cancel': {
        const e = x.engineOf(account);
        const mine = e.openOrders().filter((o) => o.accountId === e.accountId(account));
        const target = mine.length === 0 ? act.pick + 1 : mine[act.pick % mine.length]!.orderId;
        cmd = { type: 'cancel', ts, account, signer: account, orderId: target };
        break;
      }
      case 'expire':
        ts += act.step;
        x.expireAll(ts);
        break;
      case 'wreq': {
        // Half of the requests reach into what open orders hold (percent of it; > 100 = more than can be freed).
        const b = x.engineOf(account).balance(account, TOKENS[act.t]!);
        const amount = act.intoHeld < 0 ? scaled(act.amount, act.t) : b.available + 1n + (b.heldOrders * BigInt(act.intoHeld)) / 100n;
        cmd = { type: 'withdrawalRequested', ts, account, token: TOKENS[act.t]!, amount };
        break;
      }
      case 'wcancel':
        cmd = { type: 'withdrawalCancelled', account, token: TOKENS[act.t]!, amount: scaled(act.amount, act.t) };
        break;
      case 'wexec':
        cmd = { type: 'withdrawalExecuted', account, token: TOKENS[act.t]!, amount: scaled(act.amount, act.t) };
        break;
      case 'nonce':
        cmd = { type: 'nonceCancelled', ts, account, nonce: BigInt(act.nonce) };
        break;
      case 'settle': {
        // A batch settles all or (part < 100) a share of each unsettled amount, as the contract would.
        const b = x.engineOf(account).balance(account, TOKENS[act.t]!);
        const share = (v: bigint): bigint => (v * BigInt(act.part)) / 100n;
        const [received, paid, fees] = [share(b.unsettledIn), share(b.unsettledOut), share(b.feesOwed)];
        if (received + paid + fees > 0n && b.onchain + received >= paid + fees) {
          cmd = { type: 'settled', account, token: TOKENS[act.t]!, received, paid, fees };
        }
        break;
      }
    }
    if (cmd !== null) {
      const before = x.engineOf(account).stateHash();
      const out = x.submit(cmd);
      if (out.ok) {
        if (out.place !== null) seen.accepted++;
        if (cmd.type === 'withdrawalRequested' && out.cancels.length > 0) seen.withdrawalCancels++;
      } else {
        seen.refused.add(out.code);
      }
      // A refusal changes nothing.
      if (!out.ok) assert.equal(x.engineOf(account).stateHash(), before, `refused ${out.code} changed the state`);
    }
    check(`step ${i} (${act.k})`);
  }
  seen.trades += x.trades.length;
  // Every trade is between two orders risk funded and forwarded.
  for (const t of x.trades) {
    assert.ok(x.signed.has(t.makerOrderId) && x.signed.has(t.takerOrderId), `trade of unfunded order ${t.makerOrderId}/${t.takerOrderId}`);
  }
  return { x, options, log };
}

/**
 * The log as a shard may consume it: each settlement moved earlier, past the books' account events and the
 * client requests (other inputs than the chain's), but never past another chain event of its account (the
 * chain's events arrive in chain order; other accounts' are independent of it). `moves[i]` says how far back
 * the i-th settlement goes. With `skips`, settlementSkipped records move the same way, except past their own
 * account's requests: a skip takes funds back, so an order placed before it (in the consumed order) may be
 * refused after it, and the runs would differ by their inputs' outcomes, not by the engine's arithmetic.
 */
function overtaking(log: readonly FlowEntry[], moves: readonly number[], skips = false): { log: FlowEntry[]; moved: number; skipsMoved: number } {
  const out: FlowEntry[] = [];
  let n = 0;
  let moved = 0;
  let skipsMoved = 0;
  for (const entry of log) {
    const type = entry.kind === 'request' ? entry.command.type : null;
    if (entry.kind !== 'request' || !(type === 'settled' || (skips && type === 'settlementSkipped'))) {
      out.push(entry);
      continue;
    }
    let at = out.length;
    let steps = moves[n++ % moves.length]!;
    while (steps > 0 && at > 0) {
      const prev = out[at - 1]!;
      if (prev.kind === 'request' && prev.command.account === entry.command.account) {
        const isRequest = prev.command.type === 'place' || prev.command.type === 'cancel';
        if (!isRequest || type === 'settlementSkipped') break;
      }
      at--;
      steps--;
    }
    if (at < out.length) {
      if (type === 'settled') moved++;
      else skipsMoved++;
    }
    out.splice(at, 0, entry);
  }
  return { log: out, moved, skipsMoved };
}

/** What the runs exercised: a law checked over flows without trades or refusals would prove little. */
const seen = { claimCancels: 0, trades: 0, accepted: 0, refused: new Set<string>(), withdrawalCancels: 0, settlements: 0, parked: 0, skips: 0, deficits: 0, skipsMoved: 0, skipsParked: 0 };

describe('RiskEngine laws (fast-check, through real books)', () => {
  after(() => {
    assert.ok(seen.trades > 300, `only ${seen.trades} trades`);
    assert.ok(seen.accepted > 1_000, `only ${seen.accepted} orders accepted`);
    for (const code of ['INSUFFICIENT_FUNDS', 'NONCE_USED', 'ORDER_EXPIRED', 'ORDER_NOT_FOUND']) assert.ok(seen.refused.has(code), `never refused ${code}`);
    assert.ok(seen.withdrawalCancels > 0, 'no withdrawal ever cancelled orders');
    assert.ok(seen.settlements > 100, `only ${seen.settlements} settlements moved before their fills`);
    assert.ok(seen.parked > 25, `only ${seen.parked} settlements parked`);
    assert.ok(seen.skips > 60, `only ${seen.skips} fills skipped`);
    assert.ok(seen.deficits > 5, `only ${seen.deficits} skips took back committed funds (deficit)`);
    assert.ok(seen.claimCancels > 5, `only ${seen.claimCancels} orders cancelled for a skip's deficit or shortfall`);
    assert.ok(seen.skipsMoved > 50, `only ${seen.skipsMoved} skips moved before their fills`);
    assert.ok(seen.skipsParked > 10, `only ${seen.skipsParked} skips parked`);
  });

  it('no negative field, holds == open orders cost, conservation to the base unit, after every step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(action, { minLength: 1, maxLength: 120, size: 'max' }), (shards, actions) => {
        const { x } = run(shards, actions);
        assertEveryHoldReleased(x);
      }),
      { numRuns: 150 },
    );
  });

  it('a settlement consumed before its fills is parked, never lost: laws hold at every step, the end state is the in-order one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(action, { minLength: 1, maxLength: 120, size: 'max' }),
        fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 20 }),
        (shards, actions, moves) => {
          const { x, options, log } = run(shards, actions, true);
          const { log: reordered, moved } = overtaking(log!, moves);
          seen.settlements += moved;
          const engines = SingleProcessExchange.replay(options, []);
          for (const [i, entry] of reordered.entries()) {
            if (entry.kind === 'request') {
              const out = engines[entry.shard]!.apply(entry.command);
              const c = entry.command;
              if (c.type === 'settled') {
                assert.equal(out.ok, true, `settlement refused: ${out.ok ? '' : out.message}`);
                const p = engines[entry.shard]!.parked(c.account, c.token);
                if (p.received + p.paid + p.fees > 0n) seen.parked++;
              }

            } else {
              for (const e of engines) e.applyBookEvents(entry.marketId, entry.events);
            }
            for (const e of engines) assert.deepEqual(e.checkInvariants(), [], `after entry ${i} (${entry.kind})`);
          }
          for (const e of engines) assert.equal(e.parkedSettlements().size, 0);
          assert.deepEqual(
            engines.map((e) => e.stateHash()),
            x.engines.map((e) => e.stateHash()),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('replaying the log gives the same state; snapshot at any point + the rest gives the same state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(action, { minLength: 1, maxLength: 80, size: 'max' }), fc.nat(), (shards, actions, cutSeed) => {
        const { x, options, log } = run(shards, actions, true);
        const replayed = SingleProcessExchange.replay(options, log!);
        assert.deepEqual(
          replayed.map((e) => e.stateHash()),
          x.engines.map((e) => e.stateHash()),
        );
        assertResumesFromSnapshot(x, options, log!, cutSeed % (log!.length + 1));
      }),
      { numRuns: 60 },
    );
  });

  it('fills the contract skipped (settlementSkipped, receipts already withdrawn half of the time): every law after every step, every hold released, replay and snapshot + rest equal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(actionWithSkips, { minLength: 1, maxLength: 120, size: 'max' }), fc.nat(), (shards, actions, cutSeed) => {
        const { x, options, log } = run(shards, actions, true);
        assertResumesFromSnapshot(x, options, log!, cutSeed % (log!.length + 1));
        assertEveryHoldReleased(x);
      }),
      { numRuns: 100 },
    );
  });

  it('a skipped fill (or settlement) consumed before its fills is parked, never lost: laws hold at every step, the end state is the in-order one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(actionWithSkips, { minLength: 1, maxLength: 120, size: 'max' }),
        fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 20 }),
        (shards, actions, moves) => {
          const { x, options, log } = run(shards, actions, true);
          const { log: reordered, skipsMoved } = overtaking(log!, moves, true);
          seen.skipsMoved += skipsMoved;
          const engines = SingleProcessExchange.replay(options, []);
          for (const [i, entry] of reordered.entries()) {
            if (entry.kind === 'request') {
              const out = engines[entry.shard]!.apply(entry.command);
              const c = entry.command;
              if (c.type === 'settlementSkipped' || c.type === 'settled') assert.equal(out.ok, true, `${c.type} refused: ${out.ok ? '' : out.message}`);
              if (c.type === 'settlementSkipped') {
                const p = engines[entry.shard]!.parkedChainEvents(c.account, c.token);
                if (p.skippedReceived + p.skippedPaid + p.skippedFees > 0n) seen.skipsParked++;
              }
            } else {
              for (const e of engines) e.applyBookEvents(entry.marketId, entry.events);
            }
            for (const e of engines) assert.deepEqual(e.checkInvariants(), [], `after entry ${i} (${entry.kind})`);
          }
          for (const e of engines) assert.equal(e.parkedBalanceCount, 0);
          assert.deepEqual(
            engines.map((e) => e.stateHash()),
            x.engines.map((e) => e.stateHash()),
          );
        },
      ),
      { numRuns: 80 },
    );
  });
});
