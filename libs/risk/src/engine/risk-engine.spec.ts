import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DoneReason, OrderType, Side, StpMode, TimeInForce, type BookEvent } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, testMarket, tokenAddress } from '../testing/fixtures.js';
import { SingleProcessExchange, type FlowEntry } from '../testing/single-process.js';
import { RiskError } from './errors.js';
import { shardForAccount, shardForId } from './ids.js';
import { RiskEngine } from './risk-engine.js';
import type { Address, RiskCommand, RiskOutcome } from './types.js';

const M1 = testMarket(1);
const BASE1 = tokenAddress(1);
const ALICE = accountAddress(1);
const BOB = accountAddress(2);
const MALLORY = accountAddress(3);

function engine(shards = 1, shard = 0): RiskEngine {
  return new RiskEngine({ shard, shards, markets: [M1, testMarket(2)] });
}

function ok(out: RiskOutcome): Extract<RiskOutcome, { ok: true }> {
  if (!out.ok) assert.fail(`${out.code}: ${out.message}`);
  return out;
}

function deposit(e: { apply(c: RiskCommand): RiskOutcome } | SingleProcessExchange, account: Address, token: Address, amount: bigint): void {
  const cmd: RiskCommand = { type: 'deposit', account, token, amount };
  ok(e instanceof SingleProcessExchange ? e.submit(cmd) : e.apply(cmd));
}

describe('RiskEngine: holds', () => {
  it('holds quote at the signed price plus the maximum fee for a buy, base for a sell', () => {
    const e = new RiskEngine({ shard: 0, shards: 1, markets: [testMarket(1, { maker: -200, taker: 1_000 })] });
    deposit(e, ALICE, QUOTE, 1_000_000n);
    deposit(e, ALICE, BASE1, 10n ** 18n);
    // 100 lots at 150 ticks: 100 * 150 * 10 = 150,000 quote units, + 0.1% fee = 150.
    const buy = ok(e.apply(placeRequest(ALICE, testMarket(1, { maker: -200, taker: 1_000 }), { isBuy: true, priceTicks: 150, lots: 100, nonce: 1n })));
    assert.equal(e.balance(ALICE, QUOTE).heldOrders, 150_150n);
    assert.equal(e.balance(ALICE, QUOTE).available, 1_000_000n - 150_150n);
    assert.equal(buy.place?.command.side, Side.Buy);
    assert.equal(buy.place.command.size, 100);
    assert.equal(buy.place.command.price, 150);
    ok(e.apply(placeRequest(ALICE, testMarket(1, { maker: -200, taker: 1_000 }), { isBuy: false, priceTicks: 160, lots: 7, nonce: 2n })));
    assert.equal(e.balance(ALICE, BASE1).heldOrders, 7n * 10n ** 15n);
    assert.deepEqual(e.checkInvariants(), []);
  });

  it('refuses an order it cannot cover with INSUFFICIENT_FUNDS and changes nothing', () => {
    const e = engine();
    deposit(e, ALICE, QUOTE, 1_499n);
    const before = e.stateHash();
    const out = e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 150, lots: 1, nonce: 1n }));
    assert.equal(out.ok, false);
    assert.equal(out.code, 'INSUFFICIENT_FUNDS');
    assert.equal(e.stateHash(), before);
    // Exactly enough is enough.
    deposit(e, ALICE, QUOTE, 1n);
    ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 150, lots: 1, nonce: 1n })));
    assert.equal(e.balance(ALICE, QUOTE).available, 0n);
  });

  it('bounds a market buy by its signed protection price; an unprotected market buy is refused', () => {
    const e = engine();
    deposit(e, ALICE, QUOTE, 10n ** 9n);
    const unprotected = e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 0, lots: 1, nonce: 1n, orderType: OrderType.Market, tif: TimeInForce.IOC }));
    assert.equal(!unprotected.ok && unprotected.code, 'PROTECTION_PRICE_REQUIRED');
    const huge = e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 1, lots: 1, nonce: 1n, orderType: OrderType.Market, tif: TimeInForce.IOC, order: { price: (1n << 128n) - 1n - ((1n << 128n) - 1n) % 10_000n } }));
    assert.equal(!huge.ok && huge.code, 'PROTECTION_PRICE_REQUIRED');
    const out = ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 200, lots: 3, nonce: 1n, orderType: OrderType.Market, tif: TimeInForce.IOC })));
    assert.equal(out.place?.command.price, 200);
    assert.equal(e.balance(ALICE, QUOTE).heldOrders, 6_000n);
    // A market sell may sign "any price": it costs its size.
    deposit(e, ALICE, BASE1, 10n ** 16n);
    ok(e.apply(placeRequest(ALICE, M1, { isBuy: false, priceTicks: 0, lots: 10, nonce: 2n, orderType: OrderType.Market, tif: TimeInForce.FOK })));
    assert.equal(e.balance(ALICE, BASE1).heldOrders, 10n ** 16n);
  });

  it('makes a GTC order expire in the book at its signed deadline and caps a later GTT', () => {
    const e = new RiskEngine({ shard: 0, shards: 1, markets: [M1], expiryMarginTs: 5_000 });
    deposit(e, ALICE, QUOTE, 10n ** 9n);
    const gtc = ok(e.apply(placeRequest(ALICE, M1, { ts: 1_000, isBuy: true, priceTicks: 100, lots: 1, nonce: 1n, expiry: 60n })));
    assert.equal(gtc.place?.command.tif, TimeInForce.GTT);
    assert.equal(gtc.place.command.expiresAt, 55_000);
    const gtt = ok(e.apply(placeRequest(ALICE, M1, { ts: 1_000, isBuy: true, priceTicks: 100, lots: 1, nonce: 2n, expiry: 60n, tif: TimeInForce.GTT, expiresAt: 90_000 })));
    assert.equal(gtt.place?.command.expiresAt, 55_000);
    const late = e.apply(placeRequest(ALICE, M1, { ts: 55_000, isBuy: true, priceTicks: 100, lots: 1, nonce: 3n, expiry: 60n }));
    assert.equal(!late.ok && late.code, 'ORDER_EXPIRED');
  });
});

describe('RiskEngine: fills, fees and releases through a real book', () => {
  it('moves base and quote between two accounts on different shards with the contract fee rounding', () => {
    const market = testMarket(1, { maker: -100, taker: 333 });
    const x = new SingleProcessExchange({ shards: 2, markets: [market] });
    assert.notEqual(x.shardOf(ALICE), x.shardOf(BOB));
    deposit(x, ALICE, BASE1, 5n * 10n ** 15n);
    deposit(x, BOB, QUOTE, 10n ** 9n);
    ok(x.submit(placeRequest(ALICE, market, { isBuy: false, priceTicks: 12_347, lots: 5, nonce: 1n })));
    // Bob takes 3 lots at Alice's price, limit 13,000.
    ok(x.submit(placeRequest(BOB, market, { isBuy: true, priceTicks: 13_000, lots: 3, nonce: 1n, tif: TimeInForce.IOC })));
    assert.deepEqual(x.violations, []);
    const quote = 3n * 12_347n * 10n; // 370,410
    const takerFee = (quote * 333n) / 1_000_000n; // 123 (rounded down)
    const rebate = (quote * 100n) / 1_000_000n; // 37
    const a = x.engineOf(ALICE);
    const b = x.engineOf(BOB);
    assert.equal(b.balance(BOB, QUOTE).available, 10n ** 9n - quote - takerFee);
    assert.equal(b.balance(BOB, QUOTE).heldOrders, 0n, 'the IOC remainder released its hold');
    assert.equal(b.balance(BOB, QUOTE).unsettledOut, quote);
    assert.equal(b.balance(BOB, QUOTE).feesOwed, takerFee);
    assert.equal(b.balance(BOB, BASE1).available, 3n * 10n ** 15n);
    assert.equal(a.balance(ALICE, QUOTE).available, quote + rebate);
    assert.equal(a.balance(ALICE, BASE1).heldOrders, 2n * 10n ** 15n);
    assert.equal(a.balance(ALICE, BASE1).unsettledOut, 3n * 10n ** 15n);
    assert.equal(a.totals(QUOTE).fees + b.totals(QUOTE).fees, takerFee - rebate);
    assert.deepEqual(x.checkInvariants(), []);
    // Settlement turns the unsettled amounts into on-chain balance; available does not move.
    ok(x.submit({ type: 'settled', account: BOB, token: QUOTE, received: 0n, paid: quote, fees: takerFee }));
    assert.equal(b.balance(BOB, QUOTE).onchain, 10n ** 9n - quote - takerFee);
    assert.equal(b.balance(BOB, QUOTE).unsettledOut, 0n);
    // More than the fills explain is parked (not applied, not lost) and visible per token.
    ok(x.submit({ type: 'settled', account: BOB, token: QUOTE, received: 0n, paid: 1n, fees: 0n }));
    assert.equal(b.balance(BOB, QUOTE).onchain, 10n ** 9n - quote - takerFee);
    assert.deepEqual(b.parked(BOB, QUOTE), { received: 0n, paid: 1n, fees: 0n });
    assert.deepEqual(b.parkedSettlements().get(QUOTE), { received: 0n, paid: 1n, fees: 0n, balances: 1 });
    assert.deepEqual(x.checkInvariants(), []);
  });

  it('releases a cancelled order exactly once, even if the book reports its end twice', () => {
    const e = engine();
    deposit(e, ALICE, QUOTE, 10n ** 6n);
    const placed = ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 10, nonce: 1n })));
    const orderId = placed.place!.command.orderId;
    const cancel = ok(e.apply({ type: 'cancel', ts: 2, account: ALICE, signer: ALICE, orderId }));
    assert.equal(cancel.cancels[0]?.command.orderId, orderId);
    const again = e.apply({ type: 'cancel', ts: 3, account: ALICE, signer: ALICE, orderId });
    assert.equal(!again.ok && again.code, 'CANCEL_PENDING');
    const done: BookEvent = { type: 'done', seq: 5, ts: 2, orderId, accountId: placed.place!.command.accountId, reason: DoneReason.CANCELLED, remaining: 10 };
    assert.equal(e.applyBookEvents(1, [done]).applied, 1);
    assert.equal(e.balance(ALICE, QUOTE).available, 10n ** 6n);
    // Redelivered (same seq) and re-reported (new seq) ends change nothing.
    assert.equal(e.applyBookEvents(1, [done]).duplicates, 1);
    assert.equal(e.applyBookEvents(1, [{ ...done, seq: 6 }]).ignored, 1);
    assert.equal(e.balance(ALICE, QUOTE).available, 10n ** 6n);
    assert.equal(e.balance(ALICE, QUOTE).heldOrders, 0n);
    assert.deepEqual(e.checkInvariants(), []);
  });

  it('releases what self-trade prevention gives up', () => {
    const x = new SingleProcessExchange({ shards: 1, markets: [M1] });
    deposit(x, ALICE, QUOTE, 10n ** 9n);
    deposit(x, ALICE, BASE1, 10n ** 18n);
    ok(x.submit(placeRequest(ALICE, M1, { isBuy: false, priceTicks: 100, lots: 4, nonce: 1n })));
    ok(x.submit(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 10, nonce: 2n, stp: StpMode.DecrementAndCancel })));
    assert.equal(x.trades.length, 0);
    const e = x.engines[0]!;
    assert.equal(e.balance(ALICE, BASE1).heldOrders, 0n);
    assert.equal(e.balance(ALICE, QUOTE).heldOrders, 6n * 100n * 10n);
    assert.deepEqual(x.checkInvariants(), []);
  });

  it('reports a fill beyond the order or at a worse price as a violation and does not apply it', () => {
    const e = engine();
    deposit(e, ALICE, QUOTE, 10n ** 6n);
    const p = ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 10, nonce: 1n }))).place!.command;
    const before = e.stateHash();
    const trade = (seq: number, price: number, size: number): BookEvent => ({
      type: 'trade', seq, ts: 2, makerOrderId: p.orderId, makerAccountId: p.accountId, takerOrderId: 999_999, takerAccountId: 77, takerSide: Side.Sell, price, size,
    });
    assert.deepEqual(e.applyBookEvents(1, [trade(1, 100, 11)]).violations.map((v) => v.code), ['OVERFILL']);
    assert.deepEqual(e.applyBookEvents(1, [trade(2, 101, 1)]).violations.map((v) => v.code), ['PRICE_VIOLATION']);
    assert.deepEqual(e.applyBookEvents(2, [trade(3, 100, 1)]).violations.map((v) => v.code), ['MARKET_MISMATCH']);
    // Someone else's order reusing this shard's order id: its trade and its end never touch Alice's hold.
    const foreign: BookEvent = {
      type: 'trade', seq: 4, ts: 2, makerOrderId: p.orderId, makerAccountId: p.accountId + 1, takerOrderId: 999_999, takerAccountId: 77, takerSide: Side.Sell, price: 100, size: 1,
    };
    assert.deepEqual(e.applyBookEvents(1, [foreign]).violations.map((v) => v.code), ['ACCOUNT_MISMATCH']);
    const foreignDone: BookEvent = { type: 'done', seq: 5, ts: 2, orderId: p.orderId, accountId: p.accountId + 1, reason: DoneReason.CANCELLED, remaining: 10 };
    assert.deepEqual(e.applyBookEvents(1, [foreignDone]).violations.map((v) => v.code), ['ACCOUNT_MISMATCH']);
    // Only the redelivery guard moved (the sequences are consumed).
    assert.notEqual(e.stateHash(), before);
    assert.equal(e.balance(ALICE, QUOTE).heldOrders, 10_000n);
    assert.deepEqual(e.checkInvariants(), []);
  });
});

describe('RiskEngine: chain events', () => {
  it('funds a withdrawal request by cancelling the newest orders, and releases go to it first', () => {
    const x = new SingleProcessExchange({ shards: 1, markets: [M1] });
    const e = x.engines[0]!;
    deposit(x, ALICE, QUOTE, 10_000n);
    ok(x.submit(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 3, nonce: 1n }))); // 3,000
    ok(x.submit(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 5, nonce: 2n }))); // 5,000
    const w = ok(x.submit({ type: 'withdrawalRequested', ts: 5, account: ALICE, token: QUOTE, amount: 6_000n }));
    assert.equal(w.cancels.length, 1, 'the newest order alone covers the 4,000 short');
    assert.equal(e.balance(ALICE, QUOTE).heldWithdrawals, 6_000n);
    assert.equal(e.balance(ALICE, QUOTE).withdrawalShortfall, 0n);
    assert.equal(e.balance(ALICE, QUOTE).available, 1_000n);
    assert.equal(e.openOrderCount, 1);
    const tooMuch = x.submit({ type: 'withdrawalRequested', ts: 6, account: ALICE, token: QUOTE, amount: 4_001n });
    assert.equal(!tooMuch.ok && tooMuch.code, 'INSUFFICIENT_FUNDS');
    ok(x.submit({ type: 'withdrawalExecuted', account: ALICE, token: QUOTE, amount: 6_000n }));
    assert.equal(e.balance(ALICE, QUOTE).onchain, 4_000n);
    assert.equal(e.totals(QUOTE).withdrawals, 6_000n);
    const twice = x.submit({ type: 'withdrawalExecuted', account: ALICE, token: QUOTE, amount: 6_000n });
    assert.equal(!twice.ok && twice.code, 'WITHDRAWAL_NOT_COVERED');
    assert.deepEqual(x.checkInvariants(), []);
  });

  it('accepts orders signed by an authorized trading key until it is revoked', () => {
    const e = engine();
    deposit(e, ALICE, QUOTE, 10n ** 6n);
    const key = accountAddress(0xdead);
    const denied = e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 1, nonce: 1n, signer: key }));
    assert.equal(!denied.ok && denied.code, 'NOT_AUTHORIZED');
    ok(e.apply({ type: 'keyAuthorized', account: ALICE, key }));
    ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 1, nonce: 1n, signer: key })));
    ok(e.apply({ type: 'keyRevoked', account: ALICE, key }));
    const revoked = e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 1, nonce: 2n, signer: key }));
    assert.equal(!revoked.ok && revoked.code, 'NOT_AUTHORIZED');
  });

  it('cancels the open order of a nonce cancelled on chain, and refuses the nonce afterwards', () => {
    const e = engine();
    deposit(e, ALICE, QUOTE, 10n ** 6n);
    const p = ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 1, nonce: 7n }))).place!.command;
    const out = ok(e.apply({ type: 'nonceCancelled', ts: 9, account: ALICE, nonce: 7n }));
    assert.deepEqual(out.cancels.map((c) => c.command.orderId), [p.orderId]);
    ok(e.apply({ type: 'nonceCancelled', ts: 9, account: ALICE, nonce: 8n }));
    const replay = e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 1, nonce: 8n }));
    assert.equal(!replay.ok && replay.code, 'NONCE_USED');
  });
});

describe('RiskEngine: hostile input', () => {
  const e = engine();
  deposit(e, ALICE, QUOTE, 10n ** 9n);
  deposit(e, ALICE, BASE1, 10n ** 18n);
  ok(e.apply(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 1, nonce: 1n })));
  const good = { isBuy: true, priceTicks: 100, lots: 1, nonce: 2n } as const;
  const cases: [string, RiskCommand, string][] = [
    ['zero deposit', { type: 'deposit', account: ALICE, token: QUOTE, amount: 0n }, 'INVALID_AMOUNT'],
    ['negative deposit', { type: 'deposit', account: ALICE, token: QUOTE, amount: -5n }, 'INVALID_AMOUNT'],
    ['oversized deposit', { type: 'deposit', account: ALICE, token: QUOTE, amount: 1n << 128n }, 'INVALID_AMOUNT'],
    ['number amount', { type: 'deposit', account: ALICE, token: QUOTE, amount: 5 as unknown as bigint }, 'INVALID_AMOUNT'],
    ['unknown token', { type: 'deposit', account: ALICE, token: tokenAddress(99), amount: 1n }, 'UNKNOWN_TOKEN'],
    ['mixed-case address', { type: 'deposit', account: ALICE.toUpperCase().replace('0X', '0x') as Address, token: QUOTE, amount: 1n }, 'INVALID_ADDRESS'],
    ['unknown market', { ...placeRequest(ALICE, M1, good), marketId: 42 }, 'UNKNOWN_MARKET'],
    ['signed by someone else', placeRequest(ALICE, M1, { ...good, signer: MALLORY }), 'NOT_AUTHORIZED'],
    ["someone else's order", placeRequest(ALICE, M1, { ...good, order: { trader: MALLORY } }), 'TRADER_MISMATCH'],
    ['other market tokens', placeRequest(ALICE, M1, { ...good, order: { baseToken: tokenAddress(2) } }), 'TOKEN_MISMATCH'],
    ['replayed nonce', placeRequest(ALICE, M1, { ...good, nonce: 1n }), 'NONCE_USED'],
    ['negative nonce', placeRequest(ALICE, M1, { ...good, nonce: -1n }), 'INVALID_NONCE'],
    ['zero size', placeRequest(ALICE, M1, { ...good, order: { size: 0n } }), 'INVALID_SIZE'],
    ['size off lot', placeRequest(ALICE, M1, { ...good, order: { size: 10n ** 15n + 1n } }), 'SIZE_OFF_LOT'],
    ['price off tick', placeRequest(ALICE, M1, { ...good, order: { price: 1_000_001n } }), 'PRICE_OFF_TICK'],
    ['negative price', placeRequest(ALICE, M1, { ...good, order: { price: -10_000n } }), 'INVALID_PRICE'],
    ['zero limit price', placeRequest(ALICE, M1, { ...good, priceTicks: 0 }), 'INVALID_PRICE'],
    ['fee bound above 10%', placeRequest(ALICE, M1, { ...good, maxFeeRate: 100_001 }), 'INVALID_FEE_RATE'],
    ['expired', placeRequest(ALICE, M1, { ...good, ts: 10_000, expiry: 10n }), 'ORDER_EXPIRED'],
    ['expiry zero', placeRequest(ALICE, M1, { ...good, ts: 0, expiry: 0n }), 'ORDER_EXPIRED'],
    ['expiry above uint64', placeRequest(ALICE, M1, { ...good, expiry: 1n << 64n }), 'INVALID_EXPIRY'],
    ['GTT without expiresAt', placeRequest(ALICE, M1, { ...good, tif: TimeInForce.GTT }), 'INVALID_EXPIRY'],
    ['IOC with expiresAt', placeRequest(ALICE, M1, { ...good, tif: TimeInForce.IOC, expiresAt: 5 }), 'INVALID_EXPIRY'],
    ['market GTC', placeRequest(ALICE, M1, { ...good, orderType: OrderType.Market }), 'INVALID_ORDER'],
    ['bad tif', placeRequest(ALICE, M1, { ...good, tif: 9 as TimeInForce }), 'INVALID_ORDER'],
    ['short signature', placeRequest(ALICE, M1, { ...good, order: { signature: '0x1b' } }), 'INVALID_SIGNATURE'],
    ['negative ts', placeRequest(ALICE, M1, { ...good, ts: -1 }), 'INVALID_TIMESTAMP'],
    ['no funds', placeRequest(ALICE, M1, { ...good, lots: 10_000_000 }), 'INSUFFICIENT_FUNDS'],
    ['unfunded account', placeRequest(MALLORY, M1, good), 'INSUFFICIENT_FUNDS'],
    ["cancel of another's order", { type: 'cancel', ts: 1, account: MALLORY, signer: MALLORY, orderId: 1 }, 'NOT_ORDER_OWNER'],
    ['cancel of no order', { type: 'cancel', ts: 1, account: ALICE, signer: ALICE, orderId: 12_345 }, 'ORDER_NOT_FOUND'],
    ['withdrawal above the balance', { type: 'withdrawalRequested', ts: 1, account: ALICE, token: BASE1, amount: 10n ** 18n + 1n }, 'INSUFFICIENT_FUNDS'],
    ['withdrawal cancel without request', { type: 'withdrawalCancelled', account: ALICE, token: BASE1, amount: 1n }, 'WITHDRAWAL_NOT_FOUND'],
    ['settlement for an account never opened', { type: 'settled', account: MALLORY, token: QUOTE, received: 1n, paid: 0n, fees: 0n }, 'UNKNOWN_ACCOUNT'],
    ['settlement above uint128', { type: 'settled', account: ALICE, token: QUOTE, received: 1n << 128n, paid: 0n, fees: 0n }, 'INVALID_AMOUNT'],
    ['settlement of a token not traded', { type: 'settled', account: ALICE, token: tokenAddress(9), received: 1n, paid: 0n, fees: 0n }, 'UNKNOWN_TOKEN'],
    ['unknown command', { type: 'mint', account: ALICE } as unknown as RiskCommand, 'UNKNOWN_COMMAND'],
  ];
  for (const [name, cmd, code] of cases) {
    it(`${name} -> ${code}, state unchanged`, () => {
      const before = e.stateHash();
      const out = e.apply(cmd);
      assert.equal(out.ok, false);
      assert.equal(out.code, code, out.message);
      assert.equal(e.stateHash(), before);
    });
  }

  it('refuses a request for an account of another shard', () => {
    const shards = 4;
    const other = accountAddress(5); // shard 1
    const e0 = engine(shards, 0);
    const out = e0.apply({ type: 'deposit', account: other, token: QUOTE, amount: 1n });
    assert.equal(!out.ok && out.code, 'WRONG_SHARD');
  });
});

describe('RiskEngine: a settlement that overtakes the fills it settles (issue 10)', () => {
  const market = testMarket(1, { maker: -100, taker: 333 });
  const options = { shards: 2, markets: [market] };

  /** Alice sells 3 lots to Bob (on the other shard): the recorded log and every side's settlement of it. */
  function traded(): { log: FlowEntry[]; settlements: FlowEntry[] } {
    const x = new SingleProcessExchange(options);
    const log = x.record();
    deposit(x, ALICE, BASE1, 5n * 10n ** 15n);
    deposit(x, BOB, QUOTE, 10n ** 9n);
    ok(x.submit(placeRequest(ALICE, market, { isBuy: false, priceTicks: 12_347, lots: 5, nonce: 1n })));
    ok(x.submit(placeRequest(BOB, market, { isBuy: true, priceTicks: 13_000, lots: 3, nonce: 1n, tif: TimeInForce.IOC })));
    const settlements: FlowEntry[] = [];
    for (const a of [ALICE, BOB]) {
      for (const token of [QUOTE, BASE1]) {
        const b = x.engineOf(a).balance(a, token);
        const command: RiskCommand = { type: 'settled', account: a, token, received: b.unsettledIn, paid: b.unsettledOut, fees: b.feesOwed };
        settlements.push({ kind: 'request', shard: x.shardOf(a), command });
      }
    }
    assert.equal(log.at(-1)!.kind, 'events', 'the trade is the last entry');
    return { log: [...log], settlements };
  }

  it('parks it (nothing spendable, invariants hold) and applies it as the fills arrive: the in-order state', () => {
    const { log, settlements } = traded();
    const inOrder = SingleProcessExchange.replay(options, [...log, ...settlements]);
    const engines = SingleProcessExchange.replay(options, log.slice(0, -1));
    const before = engines.map((e) => [ALICE, BOB].map((a) => [QUOTE, BASE1].map((t) => e.balance(a, t))));
    for (const s of settlements) if (s.kind === 'request') ok(engines[s.shard]!.apply(s.command));
    for (const e of engines) assert.deepEqual(e.checkInvariants(), []);
    // Parked: the ledger's balances (available, onchain) are untouched until the fills explain the amounts.
    assert.deepEqual(
      engines.map((e) => [ALICE, BOB].map((a) => [QUOTE, BASE1].map((t) => e.balance(a, t)))),
      before,
    );
    const alice = engines[shardForAccount(ALICE, options.shards)]!;
    const quote = 3n * 12_347n * 10n;
    assert.deepEqual(alice.parked(ALICE, QUOTE), { received: quote + (quote * 100n) / 1_000_000n, paid: 0n, fees: 0n });
    assert.deepEqual(alice.parked(ALICE, BASE1), { received: 0n, paid: 3n * 10n ** 15n, fees: 0n });
    // The parked state is part of the state: it survives a snapshot (format version 2).
    const bytes = alice.snapshot();
    assert.match(new TextDecoder().decode(bytes), /"version":2/);
    assert.equal(RiskEngine.restore(alice.config, bytes).stateHash(), alice.stateHash());
    const last = log.at(-1)!;
    if (last.kind !== 'events') assert.fail('the trade is the last entry');
    for (const e of engines) e.applyBookEvents(last.marketId, last.events);
    for (const e of engines) {
      assert.deepEqual(e.checkInvariants(), []);
      assert.equal(e.parkedSettlements().size, 0);
    }
    assert.deepEqual(
      engines.map((e) => e.stateHash()),
      inOrder.map((e) => e.stateHash()),
    );
  });

  it('applies part of it when only part of its fills arrived, never more than they explain', () => {
    const { log, settlements } = traded();
    const engines = SingleProcessExchange.replay(options, log.slice(0, -1));
    const s = settlements.find((x) => x.kind === 'request' && x.command.type === 'settled' && x.command.account === BOB && x.command.token === QUOTE)!;
    if (s.kind !== 'request' || s.command.type !== 'settled') assert.fail('no settlement of Bob in quote');
    const bob = engines[s.shard]!;
    // The same batch settled twice on chain (or a forged second one): the second half waits, visibly.
    ok(bob.apply(s.command));
    ok(bob.apply(s.command));
    const last = log.at(-1)!;
    if (last.kind !== 'events') assert.fail('the trade is the last entry');
    for (const e of engines) e.applyBookEvents(last.marketId, last.events);
    assert.deepEqual(bob.checkInvariants(), []);
    const b = bob.balance(BOB, QUOTE);
    assert.equal(b.unsettledOut + b.feesOwed, 0n);
    assert.equal(b.onchain, 10n ** 9n - s.command.paid - s.command.fees, 'applied once');
    assert.deepEqual(bob.parked(BOB, QUOTE), { received: 0n, paid: s.command.paid, fees: s.command.fees });
    assert.deepEqual(bob.parkedSettlements().get(QUOTE), { received: 0n, paid: s.command.paid, fees: s.command.fees, balances: 1 });
  });

  it('restores a version 1 snapshot (before parked settlements) and still writes version 1 when nothing is parked', () => {
    const { log } = traded();
    const alice = SingleProcessExchange.replay(options, log)[shardForAccount(ALICE, options.shards)];
    const v1 = alice!.snapshot();
    assert.match(new TextDecoder().decode(v1), /"version":1,/);
    // A version 1 balance has 9 fields: written by the engine before version 2 existed, it restores as is.
    assert.equal(RiskEngine.restore(alice!.config, v1).stateHash(), alice!.stateHash());
    // A version 2 balance needs its three parked fields; a version 1 balance may not carry them.
    const text = new TextDecoder().decode(v1);
    const as2 = new TextEncoder().encode(text.replace('"version":1,', '"version":2,'));
    assert.throws(() => RiskEngine.restore(alice!.config, as2), /version 2 balance has 9 fields/);
  });
});

describe('RiskEngine: identity, snapshot and restore', () => {
  it('mints account and order ids that never collide across shards and name their shard', () => {
    const shards = 3;
    const x = new SingleProcessExchange({ shards, markets: [M1] });
    const ids = new Set<number>();
    const orderIds = new Set<number>();
    for (let n = 1; n <= 30; n++) {
      const a = accountAddress(n);
      deposit(x, a, QUOTE, 10n ** 6n);
      const e = x.engineOf(a);
      const id = e.accountId(a)!;
      assert.equal(ids.has(id), false);
      ids.add(id);
      assert.equal(shardForId(id, shards), shardForAccount(a, shards));
      assert.equal(e.accountAddress(id), a);
      const o = ok(x.submit(placeRequest(a, M1, { isBuy: true, priceTicks: 1, lots: 1, nonce: 1n })));
      assert.equal(orderIds.has(o.place!.command.orderId), false);
      orderIds.add(o.place!.command.orderId);
      assert.equal(shardForId(o.place!.command.orderId, shards), shardForAccount(a, shards));
    }
  });

  it('restores a snapshot to the same state hash and behaviour; refuses tampered or foreign ones', () => {
    const x = new SingleProcessExchange({ shards: 1, markets: [M1] });
    deposit(x, ALICE, QUOTE, 10n ** 9n);
    deposit(x, BOB, BASE1, 10n ** 18n);
    ok(x.submit(placeRequest(BOB, M1, { isBuy: false, priceTicks: 100, lots: 5, nonce: 1n })));
    ok(x.submit(placeRequest(ALICE, M1, { isBuy: true, priceTicks: 100, lots: 2, nonce: 1n })));
    ok(x.submit({ type: 'withdrawalRequested', ts: 3, account: ALICE, token: QUOTE, amount: 10n }));
    const e = x.engines[0]!;
    const bytes = e.snapshot();
    const r = RiskEngine.restore(e.config, bytes);
    assert.equal(r.stateHash(), e.stateHash());
    assert.deepEqual(r.openOrders(), e.openOrders());
    // Same next ids, same refusals.
    const next = placeRequest(ALICE, M1, { isBuy: true, priceTicks: 90, lots: 1, nonce: 2n });
    assert.deepEqual(r.apply(next), e.apply(next));
    assert.deepEqual(r.apply(next), e.apply(next));
    assert.equal(r.stateHash(), e.stateHash());

    const text = new TextDecoder().decode(bytes);
    const tamper = (from: string, to: string): Uint8Array => new TextEncoder().encode(text.replace(from, to));
    assert.throws(() => RiskEngine.restore({ ...e.config, shards: 2 }, bytes), (err: unknown) => err instanceof RiskError && err.code === 'INVALID_SNAPSHOT');
    assert.throws(() => RiskEngine.restore({ ...e.config, markets: [testMarket(1, { taker: 5 })] }, bytes), /another market/);
    assert.throws(() => RiskEngine.restore(e.config, tamper('"1000000000"', '"1000000001"')), /invariants/);
    assert.throws(() => RiskEngine.restore(e.config, tamper('{"format"', '{ "format"')), /canonical/);
    assert.throws(() => RiskEngine.restore(e.config, new Uint8Array([1, 2, 3])), /not JSON/);
    assert.throws(() => RiskEngine.restore(e.config, tamper('"version":1', '"version":2')), (err: unknown) => err instanceof RiskError && err.code === 'INVALID_SNAPSHOT');
  });

  it('refuses a bad configuration with INVALID_CONFIG', () => {
    const bad = (over: Partial<typeof M1>): void => {
      assert.throws(() => new RiskEngine({ shard: 0, shards: 1, markets: [{ ...M1, ...over }] }), (err: unknown) => err instanceof RiskError && err.code === 'INVALID_CONFIG');
    };
    bad({ lotSize: 3n });
    bad({ tickSize: 0n });
    bad({ makerFeeRate: -10, takerFeeRate: 5 });
    bad({ takerFeeRate: 100_001 });
    bad({ quoteToken: M1.baseToken });
    assert.throws(() => new RiskEngine({ shard: 2, shards: 2, markets: [M1] }), /shard must be/);
  });
});
