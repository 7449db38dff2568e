// Use-case: store what the settlement service consumes (trades, signed orders), then commit the offsets.
//
// Exactly-once storage without a distributed transaction: rows are keyed by what identifies them in the log
// ((market, seq) for a fill, (market, orderId) for a signed order) and inserted with "skip duplicates"; the
// consumer-group offsets are committed only after the database commit. A crash in between redelivers the
// batch and the second insert finds every row already there.
//
// Continuity: each market's event sequence grows by one per event. The last sequence stored per market is kept
// in the database; a message that starts past it + 1 is a gap (events this service never saw), one that starts
// at or below it is a redelivery (fine) unless its trades contradict the stored ones: a rewind. Both are
// counted, logged as errors and shown on /health; the contradicting trade is not stored (the first one stays).
import { randomUUID } from 'node:crypto';
import {
  ContractError,
  decodeSignedOrderBatch,
  deadLetterKey,
  encodeDeadLetter,
  type SignedOrderRecord,
} from '@parallax/contracts';
import type { Logger } from '@parallax/observability';
import { orderRowKey, type SettlementFillRecord, type SettlementOrderRecord, type SettlementRepository } from '@parallax/persistence';
import type { ConsumedBatch, ConsumedMessage, OutgoingMessage, Producer, Transport } from '@parallax/transport';
import type { SettlementConfig } from '../config/settlement.config.js';
import { readMarketEvents, type MarketEventsRead, type SettlementTrade } from '../domain/trades.js';
import { orderContradicts, SIGNED_ORDER_CONFLICT, SIGNED_ORDER_MISMATCH } from '../domain/fill-checks.js';
import { toFillRecord, toOrderRecord } from '../domain/records.js';
import type { SettlementMetrics } from '../settle/settlement.metrics.js';

/** A break in a market's event sequence, as /health shows it. */
export interface SequenceAnomaly {
  readonly kind: 'gap' | 'rewind';
  readonly marketId: number;
  readonly expectedSeq: number;
  readonly gotSeq: number;
  readonly atMs: number;
}

export class IngestService {
  private producer: Producer | undefined;
  private wake: () => void = () => undefined;
  /** Last stored event sequence per market (loaded from the database on first sight). */
  private readonly cursors = new Map<number, bigint>();
  /** The latest anomaly per market and kind, for /health (they stay until the process restarts). */
  private readonly anomalies = new Map<string, SequenceAnomaly>();

  constructor(
    private readonly config: SettlementConfig,
    private readonly transport: Transport,
    private readonly repo: SettlementRepository,
    private readonly metrics: SettlementMetrics,
    private readonly log: Logger,
  ) {}

  /** Called after every stored batch (the batcher sleeps until there is something new). */
  onStored(wake: () => void): void {
    this.wake = wake;
  }

  async start(): Promise<void> {
    // Fencing is not what protects this consumer (idempotent rows do), so each process has its own id.
    this.producer = await this.transport.producer({ transactionalId: `${this.config.groupId}.ingest.${randomUUID()}` });
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.close();
  }

  async batch(batch: ConsumedBatch): Promise<void> {
    const producer = this.producer;
    if (producer === undefined) throw new Error('IngestService is not started');
    const { topics } = this.config;
    const orderMsgs: { m: ConsumedMessage; orders: SettlementOrderRecord[] }[] = [];
    const tradeMsgs: { m: ConsumedMessage; trades: readonly SettlementTrade[] }[] = [];
    const events: MarketEventsRead[] = [];
    const dead: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      try {
        if (batch.topic === topics.signedOrders) orderMsgs.push({ m, orders: this.signedOrders(m) });
        else if (batch.topic === topics.marketEvents) {
          const read = this.marketEvents(m);
          events.push(read);
          tradeMsgs.push({ m, trades: read.trades });
        } else throw new ContractError('INVALID_FIELD', `unexpected topic ${batch.topic}`);
      } catch (err) {
        if (!(err instanceof ContractError)) throw err;
        dead.push(this.deadLetter(m, err.code, err.message));
      }
    }
    // A trade and its signed orders must belong together (accounts, sides): whichever arrives second is
    // checked against the first, and what does not fit is dead-lettered with its reason, never stored, so a
    // forged or reused order id can neither settle against another trader's signature nor fail a real fill.
    const orders = await this.acceptOrders(orderMsgs, dead);
    const trades = await this.acceptTrades(tradeMsgs, dead);
    const partition = String(batch.partition);
    if (orders.length > 0) {
      const inserted = await this.repo.saveOrders(orders);
      this.metrics.signedOrdersIngested.inc({ partition }, inserted);
      if (inserted < orders.length) this.metrics.duplicatesIgnored.inc({ kind: 'signed_order' }, orders.length - inserted);
    }
    const advanced = events.length === 0 ? undefined : await this.checkSequences(events);
    if (trades.length > 0) {
      const records = trades.map(toFillRecord);
      const inserted = await this.repo.saveFills(records);
      this.metrics.tradesIngested.inc({ partition }, inserted);
      if (inserted < trades.length) {
        this.metrics.duplicatesIgnored.inc({ kind: 'trade' }, trades.length - inserted);
        await this.reportRewinds(records);
      }
    }
    if (advanced !== undefined && advanced.size > 0) {
      await this.repo.advanceSequenceCursors(advanced);
      for (const [marketId, seq] of advanced) this.cursors.set(marketId, seq);
    }
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined) return;
    await producer.transaction((tx) => {
      if (dead.length > 0) tx.send(topics.deadLetters, dead);
      tx.commitOffsets(this.config.groupId, [{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
    });
    if (orders.length > 0 || trades.length > 0) this.wake();
  }

  private deadLetter(m: ConsumedMessage, reason: string, detail: string): OutgoingMessage {
    this.metrics.deadLetters.inc({ topic: m.topic, reason });
    this.log.warn({ topic: m.topic, partition: m.partition, offset: m.offset, reason, detail }, 'dead-lettered');
    return {
      key: deadLetterKey(m.topic, m.partition),
      value: encodeDeadLetter({ reason, detail, topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, value: m.value }),
    };
  }

  /**
   * The signed orders to store. A message with an order that contradicts a stored trade (SIGNED_ORDER_MISMATCH)
   * or a different order stored under its id (SIGNED_ORDER_CONFLICT) is dead-lettered; its other orders are
   * stored.
   */
  private async acceptOrders(msgs: readonly { m: ConsumedMessage; orders: SettlementOrderRecord[] }[], dead: OutgoingMessage[]): Promise<SettlementOrderRecord[]> {
    const all = msgs.flatMap((x) => x.orders);
    if (all.length === 0) return [];
    const [stored, fills] = await Promise.all([this.repo.ordersByKey(all), this.repo.pendingFillsOfOrders(all)]);
    const fillsOf = new Map<string, SettlementFillRecord[]>();
    for (const f of fills) {
      for (const id of [f.makerOrderId, f.takerOrderId]) {
        const k = orderRowKey(f.marketId, id);
        fillsOf.set(k, [...(fillsOf.get(k) ?? []), f]);
      }
    }
    const out: SettlementOrderRecord[] = [];
    for (const { m, orders } of msgs) {
      const mismatch: string[] = [];
      const conflict: string[] = [];
      for (const o of orders) {
        const k = orderRowKey(o.marketId, o.orderId);
        const before = stored.get(k);
        if (before !== undefined && !sameOrder(before, o)) {
          conflict.push(`order ${o.marketId}/${o.orderId} differs from the signed order stored under its id (account ${before.accountId}, trader ${before.trader})`);
          continue;
        }
        const problems = (fillsOf.get(k) ?? []).flatMap((f) => {
          const p = [f.makerOrderId === o.orderId ? orderContradicts(f, o, 'maker') : undefined, f.takerOrderId === o.orderId ? orderContradicts(f, o, 'taker') : undefined];
          return p.filter((x) => x !== undefined).map((x) => `trade ${f.marketId}/${f.seq}: ${x}`);
        });
        if (problems.length > 0) mismatch.push(...problems);
        else out.push(o);
      }
      if (mismatch.length > 0) dead.push(this.deadLetter(m, SIGNED_ORDER_MISMATCH, mismatch.join('; ')));
      if (conflict.length > 0) dead.push(this.deadLetter(m, SIGNED_ORDER_CONFLICT, conflict.join('; ')));
    }
    return out;
  }

  /** The trades to store: one contradicting an already stored signed order is dead-lettered (its message, naming it). */
  private async acceptTrades(msgs: readonly { m: ConsumedMessage; trades: readonly SettlementTrade[] }[], dead: OutgoingMessage[]): Promise<SettlementTrade[]> {
    const all = msgs.flatMap((x) => x.trades);
    if (all.length === 0) return [];
    const records = all.map(toFillRecord);
    const stored = await this.repo.ordersByKey(records.flatMap((f) => [{ marketId: f.marketId, orderId: f.makerOrderId }, { marketId: f.marketId, orderId: f.takerOrderId }]));
    const out: SettlementTrade[] = [];
    let i = 0;
    for (const { m, trades } of msgs) {
      const problems: string[] = [];
      for (const t of trades) {
        const f = records[i++]!;
        const maker = stored.get(orderRowKey(f.marketId, f.makerOrderId));
        const taker = stored.get(orderRowKey(f.marketId, f.takerOrderId));
        const p = [maker === undefined ? undefined : orderContradicts(f, maker, 'maker'), taker === undefined ? undefined : orderContradicts(f, taker, 'taker')].filter((x) => x !== undefined);
        if (p.length > 0) problems.push(`trade ${f.marketId}/${f.seq}: ${p.join('; ')}`);
        else out.push(t);
      }
      if (problems.length > 0) dead.push(this.deadLetter(m, SIGNED_ORDER_MISMATCH, problems.join('; ')));
    }
    return out;
  }

  private signedOrders(m: ConsumedMessage): SettlementOrderRecord[] {
    const b = decodeSignedOrderBatch(m.value);
    if (!this.config.markets.has(b.marketId)) {
      throw new ContractError('UNKNOWN_MARKET', `market ${b.marketId} has no settlement configuration`);
    }
    return b.orders.map((o: SignedOrderRecord) => toOrderRecord(b.marketId, o));
  }

  private marketEvents(m: ConsumedMessage): MarketEventsRead {
    const read = readMarketEvents(m.value);
    if (read.trades.length > 0 && !this.config.markets.has(read.marketId)) {
      throw new ContractError('UNKNOWN_MARKET', `market ${read.marketId} has no settlement configuration`);
    }
    return read;
  }

  /** Gaps and overlaps of these messages against the stored cursors; returns the cursors to advance. */
  private async checkSequences(events: readonly MarketEventsRead[]): Promise<Map<number, bigint>> {
    const unknown = [...new Set(events.map((e) => e.marketId))].filter((id) => !this.cursors.has(id));
    for (const [marketId, seq] of await this.repo.sequenceCursors(unknown)) this.cursors.set(marketId, seq);
    const next = new Map<number, bigint>();
    for (const e of events) {
      const last = next.get(e.marketId) ?? this.cursors.get(e.marketId) ?? 0n;
      const first = BigInt(e.firstSeq);
      // Consumed from the beginning, a market's first message starts at 1: a later start is a gap too.
      if (first > last + 1n) this.anomaly({ kind: 'gap', marketId: e.marketId, expectedSeq: Number(last + 1n), gotSeq: e.firstSeq, atMs: Date.now() });
      const lastSeq = BigInt(e.lastSeq);
      if (lastSeq > last) next.set(e.marketId, lastSeq);
    }
    return next;
  }

  /** Trades that were not inserted: a redelivery when they match what is stored, a rewind when they do not. */
  private async reportRewinds(records: readonly SettlementFillRecord[]): Promise<void> {
    for (const { incoming, stored } of await this.repo.contradictingFills(records)) {
      this.anomaly(
        { kind: 'rewind', marketId: incoming.marketId, expectedSeq: Number(incoming.seq), gotSeq: Number(incoming.seq), atMs: Date.now() },
        { incoming: describeFill(incoming), stored: describeFill(stored) },
      );
    }
  }

  private anomaly(a: SequenceAnomaly, detail: Record<string, unknown> = {}): void {
    this.metrics.sequenceAnomalies.inc({ kind: a.kind, market: String(a.marketId) });
    this.anomalies.set(`${a.kind}:${a.marketId}`, a);
    this.log.error(
      { ...a, ...detail },
      a.kind === 'gap'
        ? `market ${a.marketId}: events ${a.expectedSeq}..${a.gotSeq - 1} never reached settlement (sequence gap)`
        : `market ${a.marketId}: trade ${a.gotSeq} contradicts the stored one (rewound or forged history); the stored trade stays`,
    );
  }

  /** Sequence gaps and rewinds seen by this process, latest per market and kind. */
  sequenceHealth(): SequenceAnomaly[] {
    return [...this.anomalies.values()];
  }
}

/** The same signed order (a redelivery), field by field. */
function sameOrder(a: SettlementOrderRecord, b: SettlementOrderRecord): boolean {
  return (
    a.accountId === b.accountId &&
    a.trader.toLowerCase() === b.trader.toLowerCase() &&
    a.isBuy === b.isBuy &&
    a.price === b.price &&
    a.size === b.size &&
    a.nonce === b.nonce &&
    a.maxFeeRate === b.maxFeeRate &&
    a.expiry === b.expiry &&
    a.signature.toLowerCase() === b.signature.toLowerCase()
  );
}

function describeFill(f: SettlementFillRecord): string {
  return `maker ${f.makerOrderId}/${f.makerAccountId ?? '?'} taker ${f.takerOrderId}/${f.takerAccountId ?? '?'} ${f.takerSide} ${f.sizeLots} @ ${f.priceTicks}`;
}
