// Test support: re-runs a shard from nothing through its journal with outputs on (not a silent replay), so a
// test can compare what the shard would forward with what the live services committed: equal multisets
// of orders and signed orders mean every committed output came from the journaled interleaving, exactly
// once, whatever processes were killed in between.
import { decodeCommandBatch, decodeSignedOrderBatch } from '@parallax/contracts';
import type { RiskEngine } from '@parallax/risk';
import type { ConsumedMessage, OutgoingMessage, Transport } from '@parallax/transport';
import { AccountShard } from '../shard/account-shard.js';
import { shardOptions, type RiskShardsConfig } from '../service/risk-shards.js';
import { decodeJournalEntry } from '../state/shard-records.js';

export interface JournalRerun {
  readonly shard: AccountShard;
  readonly entries: number;
  readonly orders: OutgoingMessage[];
  readonly signedOrders: OutgoingMessage[];
}

export async function rerunJournal(t: Transport, c: RiskShardsConfig, s: number): Promise<JournalRerun> {
  const shard = new AccountShard(shardOptions(c, s));
  const orders: OutgoingMessage[] = [];
  const signedOrders: OutgoingMessage[] = [];
  let entries = 0;
  for await (const chunk of t.read(c.state.journal, s, 0)) {
    for (const m of chunk) {
      const e = decodeJournalEntry(m.value);
      const input = [];
      for await (const part of t.read(c.inputs[e.source], s, e.from, e.to)) input.push(...part);
      const r = shard.process(input);
      if (r.entry === null || r.entry.seq !== e.seq || r.entry.from !== e.from || r.entry.to !== e.to || r.entry.source !== e.source) {
        throw new Error(`shard ${s}: journal entry ${JSON.stringify(e)} re-ran as ${JSON.stringify(r.entry)}`);
      }
      orders.push(...r.orders);
      signedOrders.push(...r.signedOrders);
      entries++;
    }
  }
  return { shard, entries, orders, signedOrders };
}

/** Message values as sorted hex strings (a multiset to compare). */
export const valueMultiset = (ms: readonly { readonly value: Uint8Array }[]): string[] => ms.map((m) => Buffer.from(m.value).toString('hex')).sort();

/**
 * True when no data message lies between each group's committed offset and the end of its topic (transaction
 * markers take offsets too, so "committed = end" is not the test).
 */
export async function drained(t: Transport, pairs: readonly (readonly [topic: string, groupId: string])[]): Promise<boolean> {
  for (const [topic, group] of pairs) {
    const ends = await t.endOffsets(topic);
    const committed = await t.committedOffsets(group, topic);
    for (const [p, end] of ends) {
      const from = committed.get(p) ?? 0;
      if (from < end) for await (const chunk of t.read(topic, p, from, end)) if (chunk.length > 0) return false;
    }
  }
  return true;
}

/** Every message of partitions 0..partitions-1 of `topic`, per partition, from the start. */
export async function readPartitions(t: Transport, topic: string, partitions: number): Promise<ConsumedMessage[][]> {
  const out: ConsumedMessage[][] = [];
  for (let p = 0; p < partitions; p++) {
    const part: ConsumedMessage[] = [];
    for await (const chunk of t.read(topic, p, 0)) part.push(...chunk);
    out.push(part);
  }
  return out;
}

/** What is wrong with the ledger of all shards together: broken invariants, and per token flows not summing to zero. */
export function ledgerViolations(engines: readonly RiskEngine[]): string[] {
  const broken = engines.flatMap((e, i) => e.checkInvariants().map((b) => `shard ${i}: ${b}`));
  for (const token of engines[0]?.tokens ?? []) {
    const flow = engines.reduce((n, e) => n + e.totals(token).flow, 0n);
    if (flow !== 0n) broken.push(`${token}: flows sum to ${flow}`);
  }
  return broken;
}

export interface ForwardedOrders {
  /** Order ids placed on the orders topic. */
  readonly placed: Set<number>;
  /** Order id -> trader (lower case) of every signed order written. */
  readonly signedBy: Map<number, string>;
  /** An order placed or a signed order written more than once: empty when exactly once. */
  readonly twice: string[];
}

/** What the shards forwarded, read back from the orders and signed-orders topics, with anything written twice. */
export async function forwardedOrders(t: Transport, ordersTopic: string, signedOrdersTopic: string, partitions: number): Promise<ForwardedOrders> {
  const placed = new Set<number>();
  const signedBy = new Map<number, string>();
  const twice: string[] = [];
  for (const part of await readPartitions(t, ordersTopic, partitions)) {
    for (const m of part) {
      for (const c of decodeCommandBatch(m.value).commands) {
        if (c.type !== 'place') continue;
        if (placed.has(c.orderId)) twice.push(`order ${c.orderId} forwarded twice`);
        placed.add(c.orderId);
      }
    }
  }
  for (const part of await readPartitions(t, signedOrdersTopic, partitions)) {
    for (const m of part) {
      for (const o of decodeSignedOrderBatch(m.value).orders) {
        if (signedBy.has(o.orderId)) twice.push(`signed order ${o.orderId} written twice`);
        signedBy.set(o.orderId, o.trader.toLowerCase());
      }
    }
  }
  return { placed, signedBy, twice };
}
