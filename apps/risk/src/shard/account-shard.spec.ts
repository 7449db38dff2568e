// The whole funds flow through the wire contracts, in process: gateway requests -> account shards ->
// orders + signed orders -> partition engines -> account events -> account shards. Checks the laws the
// distributed pipeline must keep: conservation to the base unit, no order executed without funds (an
// unfunded trader never reaches a book), every hold released or consumed, exactly-once under redelivery and
// a shard restarted from a snapshot mid-stream. The three inputs of a shard are consumed in a random
// interleaving (as a transport delivers them), journaled, and a restore replays the journal.
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
import { shardForAccount, type Address } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import type { ConsumedMessage, OutgoingMessage } from '@parallax/transport';
import { AccountShard, RISK_SOURCES, type AccountShardOptions, type RiskSource } from './account-shard.js';

const SHARDS = 2;
const P = 2;
const MARKETS = [1, 2, 3, 4].map((id) => testMarket(id, { maker: -50, taker: 300 }));
const catalogue = new MarketCatalogue(defaultMarkets(4));
const INPUTS = { requests: 'requests', chainEvents: 'chain-events', accountEvents: 'account-events' } as const;
const options = (shard: number): AccountShardOptions => ({ risk: { shard, shards: SHARDS, markets: MARKETS }, marketPartitions: P, inputs: INPUTS });
type Entry = { source: RiskSource; seq: number; from: number; to: number };

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
  readonly inputs: Record<RiskSource, Topic> = {
    requests: new Topic(INPUTS.requests, SHARDS),
    chainEvents: new Topic(INPUTS.chainEvents, SHARDS),
    accountEvents: new Topic(INPUTS.accountEvents, SHARDS),
  };
  readonly orders = new Topic('orders', P);
  readonly signed = new Topic('signed-orders', P);
  readonly events = new Topic('market-events', P);
  readonly dead = new Topic('dead-letters', 1);
  /** Per shard, the journal: which input range it applied, in order. */
  readonly journals: Entry[][] = Array.from({ length: SHARDS }, () => []);
  shards = Array.from({ length: SHARDS }, (_, s) => new AccountShard(options(s)));
  readonly engines = Array.from({ length: P }, (_, p) => new PartitionEngine({ partition: p, partitions: P, catalogue, accountShards: SHARDS }));
  private readonly engineRead = Array.from({ length: P }, () => 0);
  /** Picks which of a shard's sources is consumed next, and how much of it (a transport's delivery order). */
  private readonly pick = prng(99);

  send(requests: readonly ClientRequest[]): void {
    const byShard = new Map<number, ClientRequest[]>();
    for (const r of requests) {
      const s = shardForAccount(r.account, SHARDS);
      byShard.set(s, [...(byShard.get(s) ?? []), r]);
    }
    for (const [s, rs] of byShard) this.inputs.requests.append([{ key: rs[0]!.account, partition: s, value: encodeRiskRequestBatch({ sentAtMs: 0, requests: rs }) }]);
    this.drain();
  }

  chain(events: readonly ChainEvent[]): void {
    for (const e of events) this.inputs.chainEvents.append([{ key: e.account, partition: shardForAccount(e.account, SHARDS), value: encodeChainEventBatch({ sentAtMs: 0, events: [e] }) }]);
    this.drain();
  }

  /** Runs every stage until nothing new is produced; a shard takes its sources in a random interleaving. */
  drain(): void {
    for (let moved = true; moved; ) {
      moved = false;
      for (let s = 0; s < SHARDS; s++) {
        for (;;) {
          const shard = this.shards[s]!;
          const ready = RISK_SOURCES.filter((src) => shard.nextOffsets[src] < this.inputs[src].parts[s]!.length);
          if (ready.length === 0) break;
          const src = ready[Math.floor(this.pick() * ready.length)]!;
          const log = this.inputs[src].parts[s]!;
          const from = shard.nextOffsets[src];
          const to = Math.min(log.length, from + 1 + Math.floor(this.pick() * 3));
          const r = shard.process(log.slice(from, to));
          if (r.entry !== null) this.journals[s]!.push(r.entry);
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
          this.inputs.accountEvents.append(r.accountEvents);
          moved = true;
        }
      }
    }
  }

  /** Shard s rebuilt from a snapshot plus the journal after it, each entry replayed from its input range. */
  rebuild(s: number, snapshot: ReturnType<AccountShard['snapshot']> | null): AccountShard {
    const shard = AccountShard.restore(options(s), snapshot);
    for (const e of this.journals[s]!.slice(snapshot?.journalSeq ?? 0)) shard.replayEntry(e, this.inputs[e.source].parts[s]!.slice(e.from, e.to));
    return shard;
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
  let snap: ReturnType<AccountShard['snapshot']> | null = null;
  for (let i = 0; i < 400; i++) {
    if (restartAt !== null && i === restartAt) {
      // The shard crashed after committing everything it consumed: restore = snapshot + journal replay.
      const live = x.shards[0]!.engine.stateHash();
      x.shards[0] = x.rebuild(0, snap);
      assert.equal(x.shards[0].engine.stateHash(), live, 'the restored shard has the live state');
    }
    if (restartAt !== null && i === Math.floor(restartAt / 2)) snap = x.shards[0]!.snapshot();
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

  it('the journal alone decides the interleaving: every shard rebuilt from it (no snapshot) has the live state hash', () => {
    const { x } = run(null);
    for (let s = 0; s < SHARDS; s++) {
      assert.ok(x.journals[s]!.length > 50, `shard ${s} journaled ${x.journals[s]!.length} entries`);
      assert.ok(new Set(x.journals[s]!.map((e) => e.source)).size === 3, 'all three sources interleaved');
      assert.equal(x.rebuild(s, null).engine.stateHash(), x.shards[s]!.engine.stateHash());
    }
    // The same inputs applied source by source (another interleaving) give another state: the order matters.
    const other = new AccountShard(options(0));
    for (const src of RISK_SOURCES) {
      const log = x.inputs[src].parts[0]!;
      if (log.length > 0) other.process(log);
    }
    assert.notEqual(other.engine.stateHash(), x.shards[0]!.engine.stateHash());
    // A journal entry out of order or from the wrong offset is refused, not applied.
    const e = x.journals[0]![0]!;
    const fresh = new AccountShard(options(0));
    assert.throws(() => {
      fresh.replayEntry({ ...e, seq: 1 }, []);
    }, /replayed after 0 entries/);
    assert.throws(() => {
      fresh.replayEntry({ ...e, from: e.from + 1 }, []);
    }, /the shard is at/);
  });

  it('each source takes only its own message type: a deposit or a fill on the requests input is dead-lettered', () => {
    const sh = new AccountShard(options(0));
    const a = [1, 2, 3, 4, 5, 6].map(accountAddress).find((x) => shardForAccount(x, SHARDS) === 0)!;
    const dep = encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: a, token: QUOTE, amount: 1_000n }] });
    const at = (topic: string, offset: number, value: Uint8Array): ConsumedMessage => ({ topic, partition: 0, offset, key: null, value, timestamp: 0, headers: {} });
    const forged = sh.process([at(INPUTS.requests, 0, dep)]);
    assert.equal(decodeDeadLetter(forged.deadLetters[0]!.value).reason, 'WRONG_MESSAGE_TYPE');
    assert.equal(sh.engine.balance(a, QUOTE).available, 0n, 'a deposit written by the request writer is not credited');
    const req = encodeRiskRequestBatch({ sentAtMs: 0, requests: [placeRequest(a, MARKETS[0]!, { ts: 1, isBuy: true, priceTicks: 100, lots: 1, nonce: 1n })] });
    assert.equal(decodeDeadLetter(sh.process([at(INPUTS.chainEvents, 0, req)]).deadLetters[0]!.value).reason, 'WRONG_MESSAGE_TYPE');
    assert.equal(decodeDeadLetter(sh.process([at(INPUTS.accountEvents, 0, dep)]).deadLetters[0]!.value).reason, 'WRONG_MESSAGE_TYPE');
    sh.process([at(INPUTS.chainEvents, 1, dep)]);
    assert.equal(sh.engine.balance(a, QUOTE).available, 1_000n, 'the same deposit from the chain watcher is');
    assert.throws(() => sh.process([at('elsewhere', 0, dep)]), /not an input/);
  });

  it('skips redelivered offsets and dead-letters what does not decode, keeping the partition flowing', () => {
    const sh = new AccountShard(options(0));
    const a = [1, 2, 3, 4, 5, 6].map(accountAddress).find((x) => shardForAccount(x, SHARDS) === 0)!;
    const dep = encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: a, token: QUOTE, amount: 1_000n }] });
    const msg = (offset: number, value: Uint8Array): ConsumedMessage => ({ topic: INPUTS.chainEvents, partition: 0, offset, key: null, value, timestamp: 0, headers: {} });
    const r = sh.process([msg(0, dep), msg(1, Uint8Array.from([1, 2, 3])), msg(2, dep)]);
    assert.equal(r.deadLetters.length, 1);
    assert.equal(decodeDeadLetter(r.deadLetters[0]!.value).reason, 'MALFORMED_MESSAGE');
    assert.equal(sh.engine.balance(a, QUOTE).available, 2_000n);
    const again = sh.process([msg(0, dep), msg(2, dep)]);
    assert.equal(again.stats.duplicates, 2);
    assert.equal(again.entry, null, 'nothing new: no journal entry');
    assert.equal(sh.engine.balance(a, QUOTE).available, 2_000n);
  });
});
