// What the shard answers on the risk-results topic: every client request gets exactly one answer, in request
// order, on the shard's own partition: the minted ids of an accepted order, the stable code of a refusal
// (INSUFFICIENT_FUNDS, NOT_AUTHORIZED for a key the account never authorized or revoked, NONCE_USED for a
// resend), and the answer to a cancel. Chain events get no answer; a replay (restore) writes none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRiskResultBatch, decodeSignedOrderBatch, encodeChainEventBatch, encodeRiskRequestBatch, type ChainEvent, type ClientRequest, type RiskResult } from '@parallax/contracts';
import { shardForAccount } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import type { ConsumedMessage } from '@parallax/transport';
import { AccountShard } from './account-shard.js';

const SHARDS = 2;
const M = testMarket(1, { taker: 300 });
const ALICE = accountAddress(2); // shard 0
const KEY = accountAddress(101);
const STRANGER = accountAddress(103);
const shardOf = shardForAccount(ALICE, SHARDS);
const inputs = { requests: 'in.requests', chainEvents: 'in.chain', accountEvents: 'in.accounts' };
const options = { risk: { shard: shardOf, shards: SHARDS, markets: [M] }, marketPartitions: 2, inputs };

const offsets = new Map<string, number>();
const message = (topic: string, value: Uint8Array): ConsumedMessage => {
  const offset = offsets.get(topic) ?? 0;
  offsets.set(topic, offset + 1);
  return { topic, partition: shardOf, offset, key: ALICE, value, timestamp: 0, headers: {} };
};
const requests = (...rs: ClientRequest[]): ConsumedMessage => message(inputs.requests, encodeRiskRequestBatch({ sentAtMs: 0, requests: rs }));
const chain = (...es: ChainEvent[]): ConsumedMessage => message(inputs.chainEvents, encodeChainEventBatch({ sentAtMs: 0, events: es }));

function answers(shard: AccountShard, msgs: ConsumedMessage[]): RiskResult[] {
  const r = shard.process(msgs);
  for (const m of r.results) assert.equal(m.partition, shardOf, 'answers go to the shard\'s own partition');
  return r.results.flatMap((m) => decodeRiskResultBatch(m.value).results);
}

describe('account shard answers (risk-results)', () => {
  it('answers every request once: minted ids, refusals with their code, cancels; chain events get no answer', () => {
    offsets.clear();
    const shard = new AccountShard(options);
    const buy = (nonce: bigint, signer = ALICE): ClientRequest => placeRequest(ALICE, M, { isBuy: true, priceTicks: 100, lots: 10, nonce, signer });
    // Unfunded: refused.
    let got = answers(shard, [requests(buy(1n))]);
    assert.deepEqual(got.map((r) => [r.kind, r.code]), [['place', 'INSUFFICIENT_FUNDS']]);
    // Funded (a chain event: no answer), then accepted with the ids the signed-orders record carries.
    got = answers(shard, [chain({ type: 'deposit', account: ALICE, token: QUOTE, amount: 10n ** 9n })]);
    assert.deepEqual(got, []);
    const out = shard.process([requests(buy(2n), buy(2n))]);
    const results = out.results.flatMap((m) => decodeRiskResultBatch(m.value).results);
    const signed = out.signedOrders.flatMap((m) => decodeSignedOrderBatch(m.value).orders);
    assert.equal(signed.length, 1);
    const first = results[0]!;
    assert.ok(first.kind === 'place' && first.code === null);
    assert.deepEqual([first.orderId, first.accountId, first.nonce, first.marketId], [signed[0]!.orderId, signed[0]!.accountId, 2n, 1]);
    assert.deepEqual(results.slice(1).map((r) => r.code), ['NONCE_USED'], 'a resend of the same signed order is refused, not placed twice');

    // A key the account never authorized, and the account's key used for another account: NOT_AUTHORIZED.
    got = answers(shard, [requests(buy(3n, KEY), placeRequest(ALICE, M, { isBuy: true, priceTicks: 100, lots: 1, nonce: 4n, signer: STRANGER }))]);
    assert.deepEqual(got.map((r) => r.code), ['NOT_AUTHORIZED', 'NOT_AUTHORIZED']);
    // Authorized: accepted; revoked: refused again.
    answers(shard, [chain({ type: 'keyAuthorized', account: ALICE, key: KEY })]);
    got = answers(shard, [requests(buy(5n, KEY))]);
    assert.equal(got[0]!.code, null);
    answers(shard, [chain({ type: 'keyRevoked', account: ALICE, key: KEY })]);
    got = answers(shard, [requests(buy(6n, KEY))]);
    assert.equal(got[0]!.code, 'NOT_AUTHORIZED');

    // Cancels: of the account's order (accepted), of an unknown order (refused).
    got = answers(shard, [requests({ type: 'cancel', ts: 2, account: ALICE, signer: ALICE, orderId: first.orderId }, { type: 'cancel', ts: 2, account: ALICE, signer: ALICE, orderId: 999_999 })]);
    assert.deepEqual(got.map((r) => [r.kind, r.code]), [['cancel', null], ['cancel', 'ORDER_NOT_FOUND']]);
  });

  it('writes no answers when replaying (a restore rebuilds state only)', () => {
    offsets.clear();
    const shard = new AccountShard(options);
    shard.replayEntry({ source: 'requests', seq: 0, from: 0, to: 1 }, [requests(placeRequest(ALICE, M, { isBuy: true, priceTicks: 100, lots: 1, nonce: 1n }))]);
    assert.equal(shard.nextOffsets.requests, 1);
    assert.deepEqual(answers(shard, [requests(placeRequest(ALICE, M, { isBuy: true, priceTicks: 100, lots: 1, nonce: 2n }))]).map((r) => r.code), ['INSUFFICIENT_FUNDS']);
  });
});
