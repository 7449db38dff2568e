// The projection of one shard against the live shard it mirrors: a flow of deposits, orders, cancels and
// withdrawals (some refused, one message undecodable) runs through a live AccountShard in journaled batches;
// the projection replays that journal and must report exactly the live balances, every transfer once with the
// engine's verdict, nothing on redelivery, the same end state after a restore mid-stream, and stop with a
// stable code on a journal record it cannot trust.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeChainEventBatch, encodeRiskRequestBatch, type ChainEvent, type ClientRequest } from '@parallax/contracts';
import { type Address } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import { AccountShard, encodeJournalEntry, type AccountShardOptions, type RiskSource } from '@parallax/risk-service';
import { Prng } from '@parallax/order-book';
import type { ConsumedMessage } from '@parallax/transport';
import { ProjectorError } from './projector.errors.js';
import { ShardProjection, type BalanceRow, type TransferRow } from './shard-projection.js';

const MARKETS = [1, 2].map((id) => testMarket(id, { maker: -50, taker: 300 }));
const INPUTS = { requests: 'requests', chainEvents: 'chain-events', accountEvents: 'account-events' } as const;
const options: AccountShardOptions = { risk: { shard: 0, shards: 1, markets: MARKETS }, marketPartitions: 1, inputs: INPUTS };

const prng = (seed: number): (() => number) => {
  const p = new Prng(seed);
  return () => p.nextFloat();
};

/** A live shard fed in random batches, with its inputs and journal as the log would hold them. */
class LiveShard {
  readonly shard = new AccountShard(options);
  readonly inputs: Record<RiskSource, ConsumedMessage[]> = { requests: [], chainEvents: [], accountEvents: [] };
  readonly journal: ConsumedMessage[] = [];

  append(source: RiskSource, value: Uint8Array): void {
    const log = this.inputs[source];
    log.push({ topic: INPUTS[source], partition: 0, offset: log.length, key: null, value, timestamp: 1_700_000_000_000 + log.length, headers: {} });
  }

  /** Applies the pending input of one source in one batch and journals it. */
  consume(source: RiskSource): void {
    const log = this.inputs[source];
    const from = this.shard.nextOffsets[source];
    if (from >= log.length) return;
    const r = this.shard.process(log.slice(from));
    if (r.entry === null) return;
    this.journal.push({ topic: 'journal', partition: 0, offset: this.journal.length, key: null, value: encodeJournalEntry({ shard: 0, ...r.entry }), timestamp: 0, headers: {} });
  }

  read = (source: RiskSource, from: number, to: number): Promise<readonly ConsumedMessage[]> => Promise.resolve(this.inputs[source].slice(from, to));
}

const traders = Array.from({ length: 6 }, (_, i) => accountAddress(i + 1));
const tokens = [QUOTE, ...MARKETS.map((m) => m.baseToken)];

function runFlow(seed: number): { live: LiveShard; chainEvents: ChainEvent[] } {
  const live = new LiveShard();
  const rnd = prng(seed);
  const chainEvents: ChainEvent[] = [];
  const chain = (events: ChainEvent[]): void => {
    chainEvents.push(...events);
    live.append('chainEvents', encodeChainEventBatch({ sentAtMs: 0, events }));
  };
  chain(traders.flatMap((a) => tokens.map((token) => ({ type: 'deposit', account: a, token, amount: 5_000_000n }) as const)));
  live.consume('chainEvents');
  const nonces = new Map<Address, bigint>();
  for (let round = 0; round < 12; round++) {
    const reqs: ClientRequest[] = [];
    for (let i = 0; i < 8; i++) {
      const a = traders[Math.floor(rnd() * traders.length)]!;
      const nonce = (nonces.get(a) ?? 0n) + 1n;
      nonces.set(a, nonce);
      const m = MARKETS[Math.floor(rnd() * MARKETS.length)]!;
      reqs.push(placeRequest(a, m, { ts: 1_000 + round, isBuy: rnd() < 0.5, priceTicks: 90 + Math.floor(rnd() * 20), lots: 1 + Math.floor(rnd() * 40), nonce }));
    }
    if (round % 3 === 1) reqs.push({ type: 'cancel', ts: 1_000 + round, account: reqs[0]!.account, signer: reqs[0]!.account, orderId: 1 + round });
    live.append('requests', encodeRiskRequestBatch({ sentAtMs: 0, requests: reqs }));
    const a = traders[round % traders.length]!;
    if (round % 2 === 0) {
      chain([
        { type: 'withdrawalRequested', ts: 1_000 + round, account: a, token: QUOTE, amount: 1_000n + BigInt(round) },
        { type: 'withdrawalExecuted', account: a, token: QUOTE, amount: 1_000n + BigInt(round) },
      ]);
    } else {
      // Beyond anything reserved or available: refused WITHDRAWAL_NOT_COVERED, recorded with its code.
      chain([{ type: 'withdrawalExecuted', account: a, token: QUOTE, amount: 10n ** 30n }]);
    }
    if (round === 5) live.append('chainEvents', new Uint8Array([9, 9, 9])); // undecodable: skipped, as the shard skips it
    // A random interleaving of the two sources, in batches of several messages.
    for (const s of rnd() < 0.5 ? (['requests', 'chainEvents'] as const) : (['chainEvents', 'requests'] as const)) if (rnd() < 0.7) live.consume(s);
  }
  live.consume('requests');
  live.consume('chainEvents');
  return { live, chainEvents };
}

/** The rows a projection reported, folded as a table would hold them. */
function table(rows: readonly BalanceRow[], into = new Map<string, BalanceRow>()): Map<string, BalanceRow> {
  for (const r of rows) into.set(`${r.account}|${r.token}`, r);
  return into;
}

function assertMirrors(rows: Map<string, BalanceRow>, live: LiveShard): void {
  let nonZero = 0;
  for (const a of live.shard.engine.accountAddresses()) {
    for (const token of tokens) {
      const want = live.shard.engine.balance(a, token);
      const got = rows.get(`${a}|${token}`)?.balance;
      if (got === undefined) {
        assert.deepEqual(Object.values(want).filter((v) => v !== 0n), [], `${a} ${token} has a balance and no row`);
        continue;
      }
      nonZero++;
      assert.deepEqual(got, want, `${a} ${token}`);
    }
  }
  assert.ok(nonZero >= traders.length * tokens.length, `only ${nonZero} rows`);
}

describe('ShardProjection', () => {
  it('reports exactly the live shard balances and every transfer once, with the engine verdict', async () => {
    const { live, chainEvents } = runFlow(7);
    const p = new ShardProjection(0, options);
    const rows = new Map<string, BalanceRow>();
    const transfers: TransferRow[] = [];
    // The journal in uneven batches, as a consumer would see it.
    for (let i = 0; i < live.journal.length; ) {
      const n = 1 + (i % 4);
      const step = await p.apply(live.journal.slice(i, i + n), live.read);
      assert.equal(step.journalOffset, Math.min(i + n, live.journal.length) - 1);
      table(step.balances, rows);
      transfers.push(...step.transfers);
      i += n;
    }
    assert.ok(live.shard.engine.openOrderCount > 5, 'orders hold funds');
    assertMirrors(rows, live);
    assert.equal(p.stateHash, live.shard.engine.stateHash());
    assert.deepEqual(p.position.inputs, live.shard.nextOffsets);
    assert.equal(p.position.journalNext, live.journal.length);
    // Every deposit / withdrawal event once, none of the undecodable message.
    assert.equal(transfers.length, chainEvents.length);
    assert.equal(new Set(transfers.map((t) => `${t.inputOffset}/${t.eventIndex}`)).size, transfers.length);
    const refused = transfers.filter((t) => t.refused !== null);
    assert.ok(refused.length >= 5 && refused.every((t) => t.refused === 'WITHDRAWAL_NOT_COVERED' && t.kind === 'WITHDRAWAL_EXECUTED'), JSON.stringify(refused.slice(0, 2), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    assert.equal(transfers.filter((t) => t.kind === 'DEPOSIT' && t.refused === null).length, traders.length * tokens.length);
    const withdrawn = transfers.filter((t) => t.kind === 'WITHDRAWAL_EXECUTED' && t.refused === null).reduce((n, t) => n + t.amount, 0n);
    assert.equal(withdrawn, live.shard.engine.totals(QUOTE).withdrawals);
    assert.ok(withdrawn > 0n);
  });

  it('changes nothing on a redelivered or replayed batch', async () => {
    const { live } = runFlow(11);
    const p = new ShardProjection(0, options);
    await p.apply(live.journal, live.read);
    const hash = p.stateHash;
    const again = await p.apply(live.journal, live.read);
    assert.equal(again.entries, 0);
    assert.equal(again.duplicates, live.journal.length);
    assert.deepEqual(again.balances, []);
    assert.deepEqual(again.transfers, []);
    assert.equal(p.stateHash, hash);
  });

  it('resumes from a stored position and state without counting anything twice', async () => {
    const { live } = runFlow(13);
    const half = Math.floor(live.journal.length / 2);
    const first = new ShardProjection(0, options);
    const rows = table((await first.apply(live.journal.slice(0, half), live.read)).balances);
    // What the database row holds, and a restart from it; the batch redelivered from the group's start.
    const restored = new ShardProjection(0, options, { ...first.position, state: first.snapshot() });
    assert.equal(restored.stateHash, first.stateHash);
    const rest = await restored.apply(live.journal, live.read);
    assert.equal(rest.duplicates, half);
    assert.equal(rest.entries, live.journal.length - half);
    table(rest.balances, rows);
    assertMirrors(rows, live);
    assert.equal(restored.stateHash, live.shard.engine.stateHash());
  });

  it('stops with a stable code on a journal record it cannot trust', async () => {
    const { live } = runFlow(17);
    const bad = (value: Uint8Array, offset = 0): ConsumedMessage[] => [{ ...live.journal[0]!, offset, value }];
    const cases: [ConsumedMessage[], string][] = [
      [bad(new Uint8Array([1, 2, 3])), 'UNREADABLE_JOURNAL'],
      [bad(encodeJournalEntry({ shard: 1, source: 'chainEvents', seq: 0, from: 0, to: 1 })), 'JOURNAL_MISMATCH'],
      // Skips input the shard has not applied: a gap, not a guess.
      [bad(encodeJournalEntry({ shard: 0, source: 'chainEvents', seq: 0, from: 1, to: 2 })), 'JOURNAL_GAP'],
      [bad(encodeJournalEntry({ shard: 0, source: 'chainEvents', seq: 3, from: 0, to: 1 })), 'JOURNAL_GAP'],
    ];
    for (const [journal, code] of cases) {
      const p = new ShardProjection(0, options);
      await assert.rejects(p.apply(journal, live.read), (e: unknown) => e instanceof ProjectorError && e.code === code, code);
      assert.equal(p.position.journalNext, 0, `${code}: the position did not move`);
    }
  });

  it('refuses a projection built with another shard options', () => {
    assert.throws(() => new ShardProjection(1, options), RangeError);
  });
});
