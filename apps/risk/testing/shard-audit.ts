// Test support shared by the account-shard tests on a real log (apps/risk) and the funds path tests on anvil
// (apps/chain-watcher): writing the shards' inputs as their producers do, waiting until every group drained,
// rebuilding shards from the log, and auditing what they forwarded and what traded.
import { decodeEventBatch, decodeEventBatchEvents, encodeChainEventBatch, encodeRiskRequestBatch, type ChainEvent, type ClientRequest } from '@parallax/contracts';
import type { ServiceProcess } from '@parallax/microservice';
import { shardForAccount, type RiskEngine } from '@parallax/risk';
import type { Producer, Transport } from '@parallax/transport';
import { restoreShard, type RiskShardsConfig } from '../service/risk-shards.js';
import type { AccountShard } from '../shard/account-shard.js';
import { drained, readPartitions, rerunJournal, valueMultiset, type JournalRerun } from './journal-audit.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes requests as the gateway does: one RiskRequestBatch a request, keyed by account, on its shard. */
export function sendRequests(producer: Producer, topic: string, shards: number, requests: readonly ClientRequest[]): Promise<void> {
  return producer.send(topic, requests.map((r) => ({ key: r.account, partition: shardForAccount(r.account, shards), value: encodeRiskRequestBatch({ sentAtMs: Date.now(), requests: [r] }) })));
}

/** Writes chain events one ChainEventBatch an event, keyed by account, on its shard (publishChainEvents batches them per shard). */
export function sendChainEvents(producer: Producer, topic: string, shards: number, events: readonly ChainEvent[]): Promise<void> {
  return producer.send(topic, events.map((e) => ({ key: e.account, partition: shardForAccount(e.account, shards), value: encodeChainEventBatch({ sentAtMs: Date.now(), events: [e] }) })));
}

export interface WaitDrainedOptions {
  readonly timeoutMs?: number;
  readonly everyMs?: number;
  /** Called before every poll: throw to stop waiting (a service stopped). */
  readonly healthy?: () => void;
}

/**
 * Waits until no data message lies past any group's committed offset, three polls in a row (a message in
 * flight between two services is seen by one of them). Throws after `timeoutMs` with the offsets it saw.
 */
export async function waitDrained(t: Transport, pairs: readonly (readonly [topic: string, groupId: string])[], what: string, o: WaitDrainedOptions = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  for (let stable = 0; stable < 3; ) {
    o.healthy?.();
    stable = (await drained(t, pairs)) ? stable + 1 : 0;
    if (stable >= 3) return;
    if (Date.now() > deadline) {
      const seen = await Promise.all(pairs.map(async ([topic, group]) => [topic, [...(await t.endOffsets(topic))], [...(await t.committedOffsets(group, topic))]]));
      throw new Error(`${what}: the pipeline did not drain: ${JSON.stringify(seen)}`);
    }
    await sleep(o.everyMs ?? 200);
  }
}

export interface RebuiltShards {
  /** Each shard as a new owner restores it: newest snapshot + the journal after it. */
  readonly restored: readonly { readonly shard: AccountShard; readonly snapshotJournalSeq: number | null }[];
  /** Each shard re-run from nothing through its whole journal, with outputs. */
  readonly reruns: readonly JournalRerun[];
}

/** Rebuilds shards 0..shards-1 both ways; throws unless both ways reach one state hash per shard. */
export async function rebuildShards(t: Transport, c: RiskShardsConfig, shards: number): Promise<RebuiltShards> {
  const restored = [];
  const reruns = [];
  for (let s = 0; s < shards; s++) {
    const r = await restoreShard(t, c, s);
    const rerun = await rerunJournal(t, c, s);
    if (r.report.stateHash !== rerun.shard.engine.stateHash()) {
      throw new Error(`shard ${s}: snapshot + journal (${r.report.stateHash}) != whole journal (${rerun.shard.engine.stateHash()})`);
    }
    restored.push({ shard: r.shard, snapshotJournalSeq: r.report.snapshot?.journalSeq ?? null });
    reruns.push(rerun);
  }
  return { restored, reruns };
}

export interface ForwardedOutputs {
  readonly orders: string[];
  readonly signedOrders: string[];
}

/** What the journal re-runs forward, as multisets to compare with committedOutputs. */
export const rerunOutputs = (reruns: readonly JournalRerun[]): ForwardedOutputs => ({
  orders: valueMultiset(reruns.flatMap((r) => r.orders)),
  signedOrders: valueMultiset(reruns.flatMap((r) => r.signedOrders)),
});

/** What the shards committed to the orders and signed-orders topics (`partitions` market partitions), as multisets. */
export async function committedOutputs(t: Transport, c: RiskShardsConfig, partitions: number): Promise<ForwardedOutputs> {
  return {
    orders: valueMultiset((await readPartitions(t, c.ordersTopic, partitions)).flat()),
    signedOrders: valueMultiset((await readPartitions(t, c.signedOrdersTopic, partitions)).flat()),
  };
}

/** Shard -> state hash, as the living risk processes among `procs` report them at /shards. */
export async function liveShardHashes(procs: readonly ServiceProcess[]): Promise<Map<number, string>> {
  const live = new Map<number, string>();
  for (const p of procs) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
    for (const s of (await (await fetch(`${p.url}/shards`)).json()) as { shard: number; stateHash: string }[]) live.set(s.shard, s.stateHash);
  }
  return live;
}

export interface TradeAudit {
  readonly trades: number;
  readonly markets: Set<number>;
  /** A trade seen twice, or of an order that is not in `funded`: empty when every trade is sound. */
  readonly problems: string[];
}

/** Reads every trade of the market-events topic: each once, each between two orders in `funded` (order ids risk forwarded). */
export async function auditTrades(t: Transport, marketEventsTopic: string, partitions: number, funded: { has(orderId: number): boolean }): Promise<TradeAudit> {
  const seen = new Set<string>();
  const markets = new Set<number>();
  const problems: string[] = [];
  for (const part of await readPartitions(t, marketEventsTopic, partitions)) {
    for (const m of part) {
      const b = decodeEventBatch(m.value);
      for (const e of decodeEventBatchEvents(b)) {
        if (e.type !== 'trade') continue;
        const k = `${b.marketId}/${e.seq}`;
        if (seen.has(k)) problems.push(`trade ${k} twice`);
        if (!funded.has(e.makerOrderId) || !funded.has(e.takerOrderId)) problems.push(`trade ${k} of an order risk did not fund`);
        seen.add(k);
        markets.add(b.marketId);
      }
    }
  }
  return { trades: seen.size, markets, problems };
}

/** A cancel request, stamped `ts`, for every open order of `engines` not already being cancelled. */
export function cancelOpenOrders(engines: readonly RiskEngine[], ts: number): ClientRequest[] {
  const cancels: ClientRequest[] = [];
  for (const e of engines) {
    for (const o of e.openOrders()) {
      if (o.cancelRequested) continue;
      const a = e.accountAddress(o.accountId)!;
      cancels.push({ type: 'cancel', ts, account: a, signer: a, orderId: o.orderId });
    }
  }
  return cancels;
}
