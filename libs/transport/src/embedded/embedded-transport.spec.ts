// Embedded-only behaviour beyond the shared contract: what the in-memory log does with memory (compaction,
// retention), its Kafka-like offsets, and its stricter rebalance ordering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dec, enc, eventually, readAll } from '../contract/helpers.js';
import type { TopicPartition } from '../transport.js';
import { createEmbeddedTransport } from './embedded-transport.js';

describe('embedded transport', () => {
  it('leaves one offset per partition for the commit marker of a transaction, like Kafka', async () => {
    const t = createEmbeddedTransport();
    await t.ensureTopics([{ name: 'out', partitions: 2 }]);
    const p = await t.producer({ transactionalId: 'tx' });
    await p.transaction((tx) => {
      tx.send('out', [{ key: 'a', value: enc('x'), partition: 0 }, { key: 'b', value: enc('y'), partition: 0 }]);
    });
    await p.transaction((tx) => {
      tx.send('out', [{ key: 'a', value: enc('z'), partition: 0 }]);
    });
    assert.deepEqual((await readAll(t, 'out', 0)).map((m) => m.offset), [0, 1, 3]);
    assert.deepEqual(await t.endOffsets('out'), new Map([[0, 5], [1, 0]]));
    await t.close();
  });

  it('copies values on send: a producer may reuse its buffer', async () => {
    const t = createEmbeddedTransport();
    await t.ensureTopics([{ name: 'x', partitions: 1 }]);
    const p = await t.producer();
    const buffer = enc('first');
    await p.send('x', [{ key: 'k', value: buffer }]);
    buffer.set(enc('XXXXX'));
    assert.equal(dec((await readAll(t, 'x', 0))[0]!.value), 'first');
    await t.close();
  });

  it('compacts lazily: at most about twice the live keys are held, the latest value of each key always', async () => {
    const t = createEmbeddedTransport();
    await t.ensureTopics([{ name: 'snapshots', partitions: 1, compacted: true }]);
    const p = await t.producer();
    for (let round = 0; round < 50; round++) {
      await p.send('snapshots', Array.from({ length: 100 }, (_, k) => ({ key: `k${k}`, value: enc(`${k}:${round}`) })));
    }
    const held = await readAll(t, 'snapshots', 0);
    assert.ok(held.length <= 2 * 1024 + 100, `held ${held.length} of 5000 records`);
    const latest = new Map(held.map((m) => [m.key, dec(m.value)]));
    assert.equal(latest.size, 100);
    for (const [key, value] of latest) assert.equal(value, `${key!.slice(1)}:49`);
    // Offsets are kept, and increase.
    assert.ok(held.every((m, i) => i === 0 || m.offset > held[i - 1]!.offset));
    assert.equal(held.at(-1)!.offset, 4999);
    await t.close();
  });

  it('keeps the newest records only, when asked to bound memory', async () => {
    const t = createEmbeddedTransport({ retainMessagesPerPartition: 10 });
    await t.ensureTopics([{ name: 'log', partitions: 1 }]);
    const p = await t.producer();
    for (let i = 0; i < 30; i++) await p.send('log', [{ key: 'k', value: enc(String(i)) }]);
    assert.deepEqual((await readAll(t, 'log', 0)).map((m) => dec(m.value)), ['20', '21', '22', '23', '24', '25', '26', '27', '28', '29']);
    const seen: string[] = [];
    const c = await t.consumer({ groupId: 'g', topics: ['log'] });
    await c.run({ eachBatch: (b) => (seen.push(...b.messages.map((m) => dec(m.value))), Promise.resolve()) });
    await eventually(() => seen.length === 10, 1_000, 'the retained records');
    assert.equal(seen[0], '20');
    await t.close();
  });

  it('revokes a moving partition from its old owner before the new owner hears of it', async () => {
    const t = createEmbeddedTransport();
    await t.ensureTopics([{ name: 'in', partitions: 4 }]);
    const events: string[] = [];
    const member = async (name: string) => {
      const c = await t.client().consumer({ groupId: 'g', topics: ['in'] });
      const fmt = (tps: readonly TopicPartition[]) => tps.map((tp) => tp.partition).join('');
      await c.run({
        onAssigned: (tps) => (events.push(`${name}+${fmt(tps)}`), Promise.resolve()),
        onRevoked: (tps) => (events.push(`${name}-${fmt(tps)}`), Promise.resolve()),
        eachBatch: () => Promise.resolve(),
      });
      return c;
    };
    const a = await member('A');
    const b = await member('B');
    await b.close();
    assert.deepEqual(events, ['A+0123', 'A-13', 'A+02', 'B+13', 'B-13', 'A+0123']);
    await a.close();
    assert.deepEqual(events.at(-1), 'A-0123');
  });

  it('serves several independent clients of one log: closing one leaves the others working', async () => {
    const root = createEmbeddedTransport();
    const other = root.client();
    await root.ensureTopics([{ name: 't', partitions: 1 }]);
    await other.close();
    await assert.rejects(other.partitionCount('t'));
    assert.equal(await root.partitionCount('t'), 1);
    await root.close();
  });
});
