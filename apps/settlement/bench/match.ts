// In-process matching for the settlement benchmark: the trades a matching engine would emit for a flow, and
// the market-events messages it would write (one EventBatch per command message that produced events, as
// PartitionEngine does). Books use the exchange's default catalogue (defaultMarkets), like apps/exchange.
import { defaultMarkets, encodeEventBatch, marketKey, partitionForMarket, type CommandBatch } from '@parallax/contracts';
import { EventCollector, OrderBook, encodeEvents } from '@parallax/order-book';
import type { OutgoingMessage } from '@parallax/transport';
import { tradeOf, type SettlementTrade } from '../domain/trades.js';

export interface MatchedFlow {
  /** Every trade, in the order the engines emitted them (message order, then event order). */
  readonly trades: SettlementTrade[];
  /** market-events messages, in the same order. */
  readonly eventMessages: OutgoingMessage[];
  readonly commands: number;
}

/** Applies each CommandBatch to its market's book, in order. */
export function matchBatches(batches: Iterable<CommandBatch>, marketCount: number, partitions: number, encode = true): MatchedFlow {
  const books = new Map<number, { book: OrderBook; sink: EventCollector }>();
  const defs = defaultMarkets(marketCount);
  const offsets = new Map<number, number>();
  const trades: SettlementTrade[] = [];
  const eventMessages: OutgoingMessage[] = [];
  let commands = 0;
  for (const batch of batches) {
    let m = books.get(batch.marketId);
    if (m === undefined) {
      const def = defs[batch.marketId - 1];
      if (def === undefined) throw new Error(`market ${batch.marketId} is not in the default catalogue of ${marketCount}`);
      const sink = new EventCollector();
      m = { book: new OrderBook(def.config, sink), sink };
      books.set(batch.marketId, m);
    }
    for (const c of batch.commands) m.book.apply(c);
    commands += batch.commands.length;
    const partition = partitionForMarket(batch.marketId, partitions);
    const inputOffset = offsets.get(partition) ?? 0;
    offsets.set(partition, inputOffset + 1);
    const events = m.sink.take();
    const first = events[0];
    const last = events.at(-1);
    if (first === undefined || last === undefined) continue;
    for (const e of events) {
      if (e.type === 'trade') trades.push(tradeOf(batch.marketId, e));
    }
    if (!encode) continue;
    eventMessages.push({
      key: marketKey(batch.marketId),
      partition,
      value: encodeEventBatch({
        marketId: batch.marketId,
        inputPartition: partition,
        inputOffset,
        firstSeq: first.seq,
        lastSeq: last.seq,
        eventCount: events.length,
        stateHash: m.book.stateHash(),
        sentAtMs: 0,
        events: encodeEvents(events),
      }),
    });
  }
  return { trades, eventMessages, commands };
}
