// Use-case: store what the settlement service consumes (trades, signed orders), then commit the offsets.
//
// Exactly-once storage without a distributed transaction: rows are keyed by what identifies them in the log
// ((market, seq) for a fill, (market, orderId) for a signed order) and inserted with "skip duplicates"; the
// consumer-group offsets are committed only after the database commit. A crash in between redelivers the
// batch and the second insert finds every row already there.
import { randomUUID } from 'node:crypto';
import {
  ContractError,
  decodeSignedOrderBatch,
  deadLetterKey,
  encodeDeadLetter,
  type SignedOrderRecord,
} from '@parallax/contracts';
import type { Logger } from '@parallax/observability';
import type { SettlementOrderRecord, SettlementRepository } from '@parallax/persistence';
import type { ConsumedBatch, ConsumedMessage, OutgoingMessage, Producer, Transport } from '@parallax/transport';
import type { SettlementConfig } from '../config/settlement.config.js';
import { tradesOfEventBatch, type SettlementTrade } from '../domain/trades.js';
import { toFillRecord, toOrderRecord } from '../domain/records.js';
import type { SettlementMetrics } from '../settle/settlement.metrics.js';

export class IngestService {
  private producer: Producer | undefined;
  private wake: () => void = () => undefined;

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
    const dead: OutgoingMessage[] = [];
    for (const m of batch.messages) {
      try {
        if (batch.topic === topics.signedOrders) orders.push(...this.signedOrders(m));
        else if (batch.topic === topics.marketEvents) trades.push(...this.trades(m));
        else throw new ContractError('INVALID_FIELD', `unexpected topic ${batch.topic}`);
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
    if (trades.length > 0) {
      const inserted = await this.repo.saveFills(trades.map(toFillRecord));
      this.metrics.tradesIngested.inc({ partition }, inserted);
      if (inserted < trades.length) this.metrics.duplicatesIgnored.inc({ kind: 'trade' }, trades.length - inserted);
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

  private trades(m: ConsumedMessage): SettlementTrade[] {
    const trades = tradesOfEventBatch(m.value);
    const first = trades[0];
    if (first !== undefined && !this.config.markets.has(first.marketId)) {
      throw new ContractError('UNKNOWN_MARKET', `market ${first.marketId} has no settlement configuration`);
    }
    return trades;
  }
}
