// Seeded, deterministic order flow for tests and load runs: realistic enough to trade, rest, cancel, amend
// and expire (and to hit rejections), never random at run time.
import type { CommandBatch } from '@parallax/contracts';
import type { Command } from '@parallax/order-book';
import { OrderType, Prng, Side, StpMode, TimeInForce } from '@parallax/order-book';

export interface SyntheticFlowOptions {
  readonly seed: number;
  readonly marketIds: readonly number[];
  /** Number of command batches to generate (spread over the markets at random). */
  readonly batches: number;
  /** Commands per batch: 1..max, drawn per batch. */
  readonly maxCommandsPerBatch: number;
  /** Accounts trading per market (small -> self-trade prevention kicks in). Default 20. */
  readonly accounts?: number;
  /** Price the flow oscillates around, in ticks. Default 10,000. */
  readonly midPrice?: number;
  /** Stamped as CommandBatch.sentAtMs (default 0: tests that do not measure latency). */
  readonly sentAtMs?: () => number;
}

interface FlowMarket {
  nextOrderId: number;
  ts: number;
  /** Ids placed recently (cancel / amend targets; some will be gone, which the book rejects). */
  recent: { orderId: number; accountId: number }[];
}

/** Generates `batches` command batches in production order. */
export function syntheticOrderFlow(o: SyntheticFlowOptions): CommandBatch[] {
  const rng = new Prng(o.seed);
  const rnd = (): number => rng.nextFloat();
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const accounts = o.accounts ?? 20;
  const mid = o.midPrice ?? 10_000;
  const stamp = o.sentAtMs ?? (() => 0);
  const markets = new Map<number, FlowMarket>();
  for (const id of o.marketIds) markets.set(id, { nextOrderId: 1, ts: 1_000, recent: [] });
  const out: CommandBatch[] = [];
  for (let b = 0; b < o.batches; b++) {
    const marketId = o.marketIds[int(0, o.marketIds.length - 1)]!;
    const fm = markets.get(marketId)!;
    const n = int(1, o.maxCommandsPerBatch);
    const commands: Command[] = [];
    for (let i = 0; i < n; i++) {
      fm.ts += int(0, 3);
      const ts = fm.ts;
      const roll = rnd();
      const pick = fm.recent.length > 0 ? fm.recent[int(0, fm.recent.length - 1)]! : undefined;
      if (roll < 0.15 && pick !== undefined) {
        commands.push({ type: 'cancel', ts, orderId: pick.orderId, accountId: pick.accountId });
      } else if (roll < 0.22 && pick !== undefined) {
        commands.push({ type: 'amend', ts, orderId: pick.orderId, accountId: pick.accountId, price: mid + int(-30, 30), size: int(1, 50) });
      } else if (roll < 0.23) {
        commands.push({ type: 'cancelAll', ts, accountId: int(1, accounts) });
      } else if (roll < 0.24) {
        commands.push({ type: 'expire', ts });
      } else {
        const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
        const orderId = fm.nextOrderId++;
        const accountId = int(1, accounts);
        const kind = rnd();
        // Buyers lean below mid and sellers above, so books build depth and cross often enough to trade.
        const skew = side === Side.Buy ? -8 : 8;
        const price = mid + skew + int(-25, 25);
        if (kind < 0.1) {
          commands.push({
            type: 'place', ts, orderId, accountId, side, orderType: OrderType.Market, price: 0, size: int(1, 40),
            tif: TimeInForce.IOC, expiresAt: 0, postOnly: false, stp: StpMode.CancelNewest,
          });
        } else {
          const tifRoll = rnd();
          const tif = tifRoll < 0.7 ? TimeInForce.GTC : tifRoll < 0.8 ? TimeInForce.IOC : tifRoll < 0.85 ? TimeInForce.FOK : TimeInForce.GTT;
          commands.push({
            type: 'place', ts, orderId, accountId, side, orderType: OrderType.Limit, price, size: int(1, 60), tif,
            expiresAt: tif === TimeInForce.GTT ? ts + int(5, 200) : 0,
            postOnly: tif === TimeInForce.GTC && rnd() < 0.05,
            stp: int(0, 4) as StpMode,
          });
          fm.recent.push({ orderId, accountId });
          if (fm.recent.length > 64) fm.recent.splice(0, fm.recent.length - 64);
        }
      }
    }
    out.push({ marketId, sentAtMs: stamp(), commands });
  }
  return out;
}
