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
import type { SettlementFillRecord, SettlementOrderRecord, SettlementRepository } from '@parallax/persistence';
import type { ConsumedBatch, ConsumedMessage, OutgoingMessage, Producer, Transport } from '@parallax/transport';
import type { SettlementConfig } from '../config/settlement.config.js';
import { readMarketEvents, type MarketEventsRead, type SettlementTrade } from '../domain/trades.js';
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
    const orders: SettlementOrderRecord[] = [];
    const trades: SettlementTrade[] = [];
    const events: MarketEventsRead[] = [];
    const dead: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      try {
        if (batch.topic === topics.signedOrders) orders.push(...this.signedOrders(m));
        else if (batch.topic === topics.marketEvents) {
          const read = this.marketEvents(m);
          events.push(read);
          trades.push(...read.trades);
        } else throw new ContractError('INVALID_FIELD', `unexpected topic ${batch.topic}`);
      } catch (err) {
        if (!(err instanceof ContractError)) throw err;
        this.metrics.deadLetters.inc({ topic: batch.topic, reason: err.code });
        this.log.warn({ topic: m.topic, partition: m.partition, offset: m.offset, reason: err.code, detail: err.message }, 'dead-lettered');
        dead.push({
          key: deadLetterKey(m.topic, m.partition),
          value: encodeDeadLetter({
            reason: err.code,
            detail: err.message,
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
          }),
        });
      }
    }
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

function describeFill(f: SettlementFillRecord): string {
  return `maker ${f.makerOrderId}/${f.makerAccountId ?? '?'} taker ${f.takerOrderId}/${f.takerAccountId ?? '?'} ${f.takerSide} ${f.sizeLots} @ ${f.priceTicks}`;
}
