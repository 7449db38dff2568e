// A fill the chain skipped takes back base an account had committed to a resting sell: the shard forwards the
// cancel of that sell on the orders topic exactly as it forwards a withdrawal's (the market's partition, a
// CommandBatch), stamped with the chain message's send time; the book's report of it pays the deficit; and a
// shard rebuilt from the journal (replay) reaches the same state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCommandBatch, encodeAccountEventBatch, encodeChainEventBatch, encodeRiskRequestBatch, partitionForMarket, type ClientRequest } from '@parallax/contracts';
import { encodeEvents, EventCollector, OrderBook, TimeInForce, type Command } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import type { ConsumedMessage } from '@parallax/transport';
import { AccountShard, type RiskSource } from './account-shard.js';

const M = testMarket(3, { maker: 100, taker: 300 });
const BOB = accountAddress(1);
const CAROL = accountAddress(2);
const LOT = M.lotSize;
const P = 4;
const inputs = { requests: 'in.requests', chainEvents: 'in.chain', accountEvents: 'in.accounts' } as const;
const options = { risk: { shard: 0, shards: 1, markets: [M] }, marketPartitions: P, inputs };

describe('account shard: a deficit cancels the orders it leaves unfunded', () => {
  it('forwards the cancels like a withdrawal\'s, the book\'s report pays the deficit, and a replay reaches the same state', () => {
    const shard = new AccountShard(options);
    const sink = new EventCollector();
    const book = new OrderBook({ marketId: M.marketId, minSize: 0, minNotional: 0, maxOpenOrdersPerAccount: 0, priceBandBps: 0, initialReferencePrice: 0 }, sink);
    const log: Record<RiskSource, ConsumedMessage[]> = { requests: [], chainEvents: [], accountEvents: [] };
    const entries: { source: RiskSource; seq: number; from: number; to: number }[] = [];
    /** Feeds one message; returns the book commands the shard forwarded for it. */
    const feed = (source: RiskSource, value: Uint8Array): Command[] => {
      const m: ConsumedMessage = { topic: inputs[source], partition: 0, offset: log[source].length, key: null, value, timestamp: 0, headers: {} };
      log[source].push(m);
      const r = shard.process([m]);
      if (r.entry !== null) entries.push(r.entry);
      for (const o of r.orders) assert.equal(o.partition, partitionForMarket(M.marketId, P));
      return r.orders.flatMap((o) => decodeCommandBatch(o.value).commands);
    };
    /** The commands to the book, and its reports back to the shard. */
    const toBook = (commands: readonly Command[]): void => {
      for (const c of commands) book.apply(c);
      const events = sink.take();
      if (events.length === 0) return;
      const more = feed('accountEvents', encodeAccountEventBatch({ marketId: M.marketId, inputPartition: 0, inputOffset: 0, sentAtMs: 0, events: encodeEvents(events) }));
      assert.deepEqual(more, [], 'the reports ask for nothing more');
    };
    const requests = (...rs: ClientRequest[]): void => {
      toBook(feed('requests', encodeRiskRequestBatch({ sentAtMs: 0, requests: rs })));
    };
    assert.deepEqual(feed('chainEvents', encodeChainEventBatch({ sentAtMs: 0, events: [
      { type: 'deposit', account: BOB, token: QUOTE, amount: 10n ** 9n },
      { type: 'deposit', account: CAROL, token: M.baseToken, amount: 3n * LOT },
    ] })), []);
    requests(placeRequest(CAROL, M, { isBuy: false, priceTicks: 200, lots: 3, nonce: 1n, ts: 10 }));
    requests(placeRequest(BOB, M, { isBuy: true, priceTicks: 200, lots: 3, nonce: 1n, tif: TimeInForce.IOC, ts: 11 }));
    requests(placeRequest(BOB, M, { isBuy: false, priceTicks: 300, lots: 1, nonce: 2n, ts: 12 }), placeRequest(BOB, M, { isBuy: false, priceTicks: 310, lots: 2, nonce: 3n, ts: 12 }));
    const sells = shard.engine.openOrders().map((o) => o.orderId);
    assert.equal(sells.length, 2);
    assert.equal(shard.engine.balance(BOB, M.baseToken).available, 0n);

    // The chain skipped the 3-lot fill: all 3 lots Bob committed are taken back, so both sells are cancelled
    // (newest first, until their holds cover the deficit).
    const cancels = feed('chainEvents', encodeChainEventBatch({ sentAtMs: 5_000, events: [
      { type: 'settlementSkipped', account: BOB, token: M.baseToken, received: 3n * LOT, paid: 0n, fees: 0n },
    ] }));
    assert.deepEqual(
      cancels.map((c) => [c.type, c.type === 'cancel' ? c.orderId : 0, c.ts]),
      [...sells].reverse().map((id) => ['cancel', id, 5_000]),
      'newest first, stamped with the chain message\'s send time',
    );
    assert.equal(shard.engine.deficit(BOB, M.baseToken), 3n * LOT);
    toBook(cancels);
    assert.equal(shard.engine.deficit(BOB, M.baseToken), 0n, 'the released holds paid it');
    assert.equal(shard.engine.openOrderCount, 0);
    assert.deepEqual(shard.engine.checkInvariants(), []);

    // A shard rebuilt from the journal and the same inputs is in the same state.
    const replayed = new AccountShard(options);
    for (const e of entries) replayed.replayEntry(e, log[e.source].slice(e.from, e.to));
    assert.equal(replayed.engine.stateHash(), shard.engine.stateHash());
  });
});
