// The whole funds flow through the wire contracts, in process: gateway requests -> account shards ->
// orders + signed orders -> partition engines -> account events -> account shards. Checks the laws the
// distributed pipeline must keep: conservation to the base unit, no order executed without funds (an
// unfunded trader never reaches a book), every hold released or consumed, exactly-once under redelivery and
// a shard restarted from a snapshot mid-stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeCommandBatch,
  decodeDeadLetter,
  decodeEventBatch,
  decodeEventBatchEvents,
  decodeSignedOrderBatch,
  defaultMarkets,
  encodeChainEventBatch,
  encodeRiskRequestBatch,
  MarketCatalogue,
  type ChainEvent,
  type ClientRequest,
} from '@parallax/contracts';
import { PartitionEngine } from '@parallax/matching';
import { TimeInForce } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, shardForAccount, testMarket, type Address } from '@parallax/risk';
import type { ConsumedMessage, OutgoingMessage } from '@parallax/transport';
import { AccountShard, type AccountShardOptions } from './account-shard.js';

const SHARDS = 2;
const P = 2;
const MARKETS = [1, 2, 3, 4].map((id) => testMarket(id, { maker: -50, taker: 300 }));
const catalogue = new MarketCatalogue(defaultMarkets(4));
const options = (shard: number): AccountShardOptions => ({ risk: { shard, shards: SHARDS, markets: MARKETS }, marketPartitions: P });

/** Append-only partitions of one topic, as the log would hold them. */
class Topic {
  readonly parts: ConsumedMessage[][];
  constructor(
    readonly name: string,
    n: number,
  ) {
    this.parts = Array.from({ length: n }, () => []);
  }
  append(ms: readonly OutgoingMessage[]): void {
    for (const m of ms) {
      const part = this.parts[m.partition!]!;
      part.push({ topic: this.name, partition: m.partition!, offset: part.length, key: m.key, value: m.value, timestamp: 0, headers: {} });
    }
  }
}

class Pipeline {
  readonly inputs = new Topic('risk-inputs', SHARDS);
  readonly orders = new Topic('orders', P);
  readonly signed = new Topic('signed-orders', P);
  readonly events = new Topic('market-events', P);
  readonly dead = new Topic('dead-letters', 1);
  shards = Array.from({ length: SHARDS }, (_, s) => new AccountShard(options(s)));
  readonly engines = Array.from({ length: P }, (_, p) => new PartitionEngine({ partition: p, partitions: P, catalogue, accountShards: SHARDS }));
  private readonly shardRead = Array.from({ length: SHARDS }, () => 0);
  private readonly engineRead = Array.from({ length: P }, () => 0);

  send(requests: readonly ClientRequest[]): void {
    const byShard = new Map<number, ClientRequest[]>();
    for (const r of requests) {
      const s = shardForAccount(r.account, SHARDS);
      byShard.set(s, [...(byShard.get(s) ?? []), r]);
    }
    for (const [s, rs] of byShard) this.inputs.append([{ key: rs[0]!.account, partition: s, value: encodeRiskRequestBatch({ sentAtMs: 0, requests: rs }) }]);
    this.drain();
  }

  chain(events: readonly ChainEvent[]): void {
    for (const e of events) this.inputs.append([{ key: e.account, partition: shardForAccount(e.account, SHARDS), value: encodeChainEventBatch({ sentAtMs: 0, events: [e] }) }]);
    this.drain();
  }

  /** Runs every stage until nothing new is produced (a consumer per partition, in order). */
  drain(): void {
    for (let moved = true; moved; ) {
      moved = false;
      for (let s = 0; s < SHARDS; s++) {
        const log = this.inputs.parts[s]!;
        if (this.shardRead[s]! < log.length) {
          const r = this.shards[s]!.process(log.slice(this.shardRead[s]));
          this.shardRead[s] = log.length;
          this.signed.append(r.signedOrders);
          this.orders.append(r.orders);
          this.dead.append(r.deadLetters.map((d) => ({ ...d, partition: 0 })));
          assert.deepEqual(r.stats.violations, []);
          moved = true;
        }
      }
      for (let p = 0; p < P; p++) {
        const log = this.orders.parts[p]!;
        if (this.engineRead[p]! < log.length) {
          const r = this.engines[p]!.process(log.slice(this.engineRead[p]));
          this.engineRead[p] = log.length;
          this.events.append(r.outputs);
          this.inputs.append(r.accountEvents);
          moved = true;
        }
      }
    }
  }

  /** Restarts shard s from a snapshot taken now, replaying nothing more (its outputs are committed). */
  restart(s: number, snapshotAt: { nextOffset: number; state: Uint8Array }, committed: number): void {
    const log = this.inputs.parts[s]!;
    this.shards[s] = AccountShard.restore(options(s), snapshotAt, log.slice(snapshotAt.nextOffset, committed));
  }

  invariants(): string[] {
    const broken = this.shards.flatMap((sh, i) => sh.engine.checkInvariants().map((b) => `shard ${i}: ${b}`));
    for (const token of this.shards[0]!.engine.tokens) {
      const flow = this.shards.reduce((n, sh) => n + sh.engine.totals(token).flow, 0n);
      if (flow !== 0n) broken.push(`${token}: flows sum to ${flow}`);
    }
    return broken;
  }
}

/** mulberry32 */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run(restartAt: number | null): { x: Pipeline; unfunded: Address } {
  const x = new Pipeline();
  const rnd = prng(7);
  const traders = Array.from({ length: 12 }, (_, i) => accountAddress(i + 1));
  const unfunded = accountAddress(99);
  x.chain(traders.flatMap((a, i) => [{ type: 'deposit', account: a, token: QUOTE, amount: 5_000_000n + BigInt(i) } as const, ...MARKETS.map((m) => ({ type: 'deposit', account: a, token: m.baseToken, amount: 10n ** 18n } as const))]));
  const nonces = new Map<Address, bigint>();
  let ts = 1_000;
  let snap: { shard: number; nextOffset: number; state: Uint8Array } | null = null;
  for (let i = 0; i < 400; i++) {
    if (restartAt !== null && i === restartAt) {
      const s = snap!;
      // The shard crashed after committing everything it consumed: restore = snapshot + replay to the commit.
      x.restart(s.shard, s, x.inputs.parts[s.shard]!.length);
    }
    if (restartAt !== null && i === Math.floor(restartAt / 2)) {
      const shot = x.shards[0]!.snapshot(x.inputs.parts[0]!.length);
      snap = { shard: 0, ...shot };
    }
    const a = rnd() < 0.1 ? unfunded : traders[Math.floor(rnd() * traders.length)]!;
    const m = MARKETS[Math.floor(rnd() * MARKETS.length)]!;
    const nonce = (nonces.get(a) ?? 0n) + 1n;
    nonces.set(a, nonce);
    const isBuy = rnd() < 0.5;
    const open = x.shards[shardForAccount(a, SHARDS)]!.engine.openOrders().filter((o) => o.accountId === x.shards[shardForAccount(a, SHARDS)]!.engine.accountId(a));
    const reqs: ClientRequest[] = [placeRequest(a, m, { ts: ts++, isBuy, priceTicks: 100 + Math.floor(rnd() * 9) - 4, lots: 1 + Math.floor(rnd() * 20), nonce, tif: rnd() < 0.2 ? TimeInForce.IOC : TimeInForce.GTC })];
    if (open.length > 0 && rnd() < 0.3) reqs.push({ type: 'cancel', ts: ts++, account: a, signer: a, orderId: open[0]!.orderId });
    x.send(reqs);
    assert.deepEqual(x.invariants(), [], `after request ${i}`);
  }
  return { x, unfunded };
}

describe('account shards through the wire contracts and real partition engines', () => {
  it('keeps every base unit, never lets an unfunded order reach a book, and releases every hold', () => {
    const { x, unfunded } = run(null);
    const signed = new Map<number, string>();
    for (const part of x.signed.parts) for (const m of part) for (const o of decodeSignedOrderBatch(m.value).orders) signed.set(o.orderId, o.trader);
    let trades = 0;
    for (const part of x.events.parts) {
      for (const m of part) {
        for (const e of decodeEventBatchEvents(decodeEventBatch(m.value))) {
          if (e.type !== 'trade') continue;
          trades++;
          // Both orders were funded and forwarded by risk with their signed order.
          assert.ok(signed.has(e.makerOrderId) && signed.has(e.takerOrderId));
        }
      }
    }
    assert.ok(trades > 50, `only ${trades} trades`);
    for (const part of x.orders.parts) {
      for (const m of part) {
        for (const c of decodeCommandBatch(m.value).commands) {
          if (c.type === 'place') assert.notEqual(signed.get(c.orderId), unfunded);
        }
      }
    }
    assert.equal([...signed.values()].includes(unfunded), false, 'the unfunded trader never reached a book');
    // Cancel everything left: every hold is released.
    for (const sh of x.shards) {
      for (const o of sh.engine.openOrders()) {
        const a = sh.engine.accountAddress(o.accountId)!;
        if (!o.cancelRequested) x.send([{ type: 'cancel', ts: 1_000_000, account: a, signer: a, orderId: o.orderId }]);
      }
    }
    for (const sh of x.shards) {
      assert.equal(sh.engine.openOrderCount, 0);
      for (const a of sh.engine.accountAddresses()) for (const t of sh.engine.tokens) assert.equal(sh.engine.balance(a, t).heldOrders, 0n);
    }
    assert.deepEqual(x.invariants(), []);
  });

  it('a shard restarted from a snapshot mid-stream ends where the uninterrupted run ends', () => {
    const straight = run(null).x;
    const restarted = run(240).x;
    assert.deepEqual(
      restarted.shards.map((s) => s.engine.stateHash()),
      straight.shards.map((s) => s.engine.stateHash()),
    );
  });

  it('skips redelivered offsets and dead-letters what does not decode, keeping the partition flowing', () => {
    const sh = new AccountShard(options(0));
    const a = [1, 2, 3, 4, 5, 6].map(accountAddress).find((x) => shardForAccount(x, SHARDS) === 0)!;
    const dep = encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: a, token: QUOTE, amount: 1_000n }] });
    const msg = (offset: number, value: Uint8Array): ConsumedMessage => ({ topic: 'in', partition: 0, offset, key: null, value, timestamp: 0, headers: {} });
    const r = sh.process([msg(0, dep), msg(1, Uint8Array.from([1, 2, 3])), msg(2, dep)]);
    assert.equal(r.deadLetters.length, 1);
    assert.equal(decodeDeadLetter(r.deadLetters[0]!.value).reason, 'MALFORMED_MESSAGE');
    assert.equal(sh.engine.balance(a, QUOTE).available, 2_000n);
    const again = sh.process([msg(0, dep), msg(2, dep)]);
    assert.equal(again.stats.duplicates, 2);
    assert.equal(sh.engine.balance(a, QUOTE).available, 2_000n);
  });
});
