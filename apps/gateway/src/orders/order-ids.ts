// Engine order ids without coordination between gateway instances: 53-bit safe integers made of the
// milliseconds since 2026-01-01 (41 bits, ~69 years), a counter within the millisecond (8 bits) and, in the
// lowest 4 bits, the gateway instance (0..15). Unique per instance as long as the clock does not step back
// across a restart; within a run the generator never goes back (it borrows from the next millisecond when
// 256 ids were taken in one). The instance in the low bits makes it the id's source for the engine's rule
// (MarketConfig.orderIdSources = 16: id % 16 is the instance, whose ids must increase), so an id can never
// be used twice in a market; a restart whose clock stepped back gets ORDER_ID_REUSED until it catches up.
const EPOCH_MS = Date.UTC(2026, 0, 1);
const SEQ_BITS = 8;
const INSTANCE_BITS = 4;
export const MAX_GATEWAY_INSTANCE = (1 << INSTANCE_BITS) - 1;

export class OrderIdGenerator {
  private lastMs = 0;
  private seq = 0;

  constructor(
    private readonly instance: number,
    private readonly clock: () => number = Date.now,
  ) {
    if (!Number.isInteger(instance) || instance < 0 || instance > MAX_GATEWAY_INSTANCE) {
      throw new Error(`gateway instance must be an integer in 0..${MAX_GATEWAY_INSTANCE}, got ${String(instance)}`);
    }
  }

  next(): number {
    const now = Math.max(this.clock() - EPOCH_MS, 1);
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else if (++this.seq >= 1 << SEQ_BITS) {
      this.lastMs++;
      this.seq = 0;
    }
    return (this.lastMs * (1 << SEQ_BITS) + this.seq) * (1 << INSTANCE_BITS) + this.instance;
  }
}
