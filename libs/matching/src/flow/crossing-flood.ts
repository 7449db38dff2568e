// A valid command batch whose events are several times its own size: alternating sells and buys at one
// price, so every buy fills the sell before it (accepted, accepted, trade, done, done). At 41,000 commands
// the batch encodes to ~470 KB and its events to ~2.2 MB, twice the contract's message limit: the input
// that once made the engine throw after the book had changed (issue 9) and that tests now feed to it.
import type { CommandBatch } from '@parallax/contracts';
import { OrderType, Side, StpMode, TimeInForce, type PlaceOrder } from '@parallax/order-book';

export interface CrossingFloodOptions {
  readonly marketId: number;
  /** Commands in the batch (default 41,000, ~470 KB). */
  readonly commands?: number;
  /** Order ids firstOrderId, firstOrderId + 1, ... (default 1,000,000). */
  readonly firstOrderId?: number;
  /** ts of the first command; each next one is 1 later (default 1). */
  readonly firstTs?: number;
  readonly sentAtMs?: number;
}

export function crossingFlood(options: CrossingFloodOptions): CommandBatch {
  const n = options.commands ?? 41_000;
  const firstOrderId = options.firstOrderId ?? 1_000_000;
  const firstTs = options.firstTs ?? 1;
  const commands: PlaceOrder[] = [];
  for (let i = 0; i < n; i++) {
    commands.push({
      type: 'place',
      ts: firstTs + i,
      orderId: firstOrderId + i,
      // Two accounts per pair, never the same one on both sides: no self-trade prevention in the way.
      accountId: 100 + (i % 50),
      side: i % 2 === 0 ? Side.Sell : Side.Buy,
      orderType: OrderType.Limit,
      price: 150_000,
      size: 3,
      tif: TimeInForce.GTC,
      expiresAt: 0,
      postOnly: false,
      stp: StpMode.None,
    });
  }
  return { marketId: options.marketId, sentAtMs: options.sentAtMs ?? 0, commands };
}
