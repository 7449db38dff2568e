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

  it("with 'consumed' retention keeps exactly what a reading group or a hold may still need", async () => {
    const t = createEmbeddedTransport({ retention: 'consumed' });
    await t.ensureTopics([{ name: 'log', partitions: 2 }, { name: 'unread', partitions: 1 }]);
    const p = await t.producer({ transactionalId: 'w' });
    const send = async (n: number, commits: { groupId: string; offset: number }[] = []) => {
      await p.transaction((tx) => {
        tx.send('log', Array.from({ length: n }, (_, i) => ({ key: 'k', value: enc(String(i)), partition: 0 })));
        tx.send('unread', [{ key: 'k', value: enc('x') }]);
        for (const c of commits) tx.commitOffsets(c.groupId, [{ topic: 'log', partition: 0, offset: c.offset }]);
      });
    };
    await send(10);
    // No group reads 'log' yet: nothing is dropped.
    assert.deepEqual(await t.startOffsets('log'), new Map([[0, 0], [1, 0]]));
    // Group a committed 6, group b 4: the lowest commit bounds what goes.
    await send(1, [{ groupId: 'a', offset: 6 }, { groupId: 'b', offset: 4 }]);
    assert.equal((await t.startOffsets('log')).get(0), 4);
    assert.deepEqual((await readAll(t, 'log', 0)).map((m) => m.offset).slice(0, 2), [4, 5]);
    // A member subscribed without a commit on the partition would start from the beginning: it holds all.
    const late = await t.consumer({ groupId: 'late', topics: ['log'] });
    await late.run({ eachBatch: () => Promise.resolve() });
    await send(1, [{ groupId: 'a', offset: 12 }, { groupId: 'b', offset: 12 }]);
    assert.equal((await t.startOffsets('log')).get(0), 4);
    await late.close();
    // A hold (e.g. an engine's oldest snapshot) keeps what a restore would replay.
    t.log.holdRetention('log', () => 9);
    await send(1, [{ groupId: 'a', offset: 14 }, { groupId: 'b', offset: 14 }]);
    assert.equal((await t.startOffsets('log')).get(0), 9);
    // Partition 1 and the unread topic never lose anything.
    assert.equal((await t.startOffsets('log')).get(1), 0);
    assert.equal((await readAll(t, 'unread', 0)).length, 4);
    // A consumer of a group resumes at its commit, which is still held.
    const seen: number[] = [];
    const c = await t.consumer({ groupId: 'b', topics: ['log'] });
    await c.run({ eachBatch: (b) => (seen.push(...b.messages.map((m) => m.offset)), Promise.resolve()) });
    await eventually(() => seen.length > 0, 1_000, 'records past the commit');
    // (14 is the commit marker of the third transaction: the first record at or after it is 15.)
    assert.equal(seen[0], 15);
    await t.close();
  });

  it("bounds memory with 'consumed' retention over a long run of commits", async () => {
    const t = createEmbeddedTransport({ retention: 'consumed' });
    await t.ensureTopics([{ name: 'log', partitions: 1 }]);
    const p = await t.producer({ transactionalId: 'w' });
    let end = 0;
    for (let round = 0; round < 2_000; round++) {
      await p.transaction((tx) => {
        tx.send('log', Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: enc(`${round}:${i}`), partition: 0 })));
        tx.commitOffsets('g', [{ topic: 'log', partition: 0, offset: end }]);
      });
      end = (await t.endOffsets('log')).get(0)!;
    }
    const held = await readAll(t, 'log', 0);
    assert.ok(held.length <= 11, `held ${held.length} of 20,000 records`);
    assert.equal(dec(held.at(-1)!.value), '1999:9');
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
