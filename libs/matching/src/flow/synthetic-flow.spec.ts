import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCommandBatch } from '@parallax/contracts';
import { syntheticOrderFlow } from './synthetic-flow.js';

describe('syntheticOrderFlow', () => {
  const opts = { seed: 7, marketIds: [1, 2, 3], batches: 300, maxCommandsPerBatch: 9 };

  it('is a pure function of its seed', () => {
    const bytes = (seed: number) => Buffer.concat(syntheticOrderFlow({ ...opts, seed }).map((b) => encodeCommandBatch(b)));
    assert.ok(bytes(7).equals(bytes(7)));
    assert.ok(!bytes(7).equals(bytes(8)));
  });

  it("keeps each market's timestamps non-decreasing and its order ids unique, and mixes command types", () => {
    const lastTs = new Map<number, number>();
    const ids = new Map<number, Set<number>>();
    const types = new Set<string>();
    for (const b of syntheticOrderFlow(opts)) {
      assert.ok(opts.marketIds.includes(b.marketId));
      assert.ok(b.commands.length >= 1 && b.commands.length <= opts.maxCommandsPerBatch);
      for (const c of b.commands) {
        types.add(c.type);
        assert.ok(c.ts >= (lastTs.get(b.marketId) ?? 0));
        lastTs.set(b.marketId, c.ts);
        if (c.type === 'place') {
          const seen = ids.get(b.marketId) ?? new Set<number>();
          assert.ok(!seen.has(c.orderId), `order id ${c.orderId} reused`);
          seen.add(c.orderId);
          ids.set(b.marketId, seen);
        }
      }
    }
    assert.deepEqual([...types].sort(), ['amend', 'cancel', 'cancelAll', 'expire', 'place']);
  });
});
