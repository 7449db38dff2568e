import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { TopicMessages } from 'kafkajs';
import { splitRequests } from './kafka-producer.js';

const msg = (size: number, tag: string) => ({ key: tag, value: Buffer.alloc(size), partition: 0 });

describe('splitRequests', () => {
  it('keeps every message once, in order, each request under the budget unless a message alone exceeds it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5000 }),
        (topics, budget) => {
          const input: TopicMessages[] = topics.map((sizes, t) => ({ topic: `t${t}`, messages: sizes.map((s, i) => msg(s, `${t}.${i}`)) }));
          const requests = splitRequests(input, budget);
          const flat = requests.flatMap((r) => r.flatMap((tm) => tm.messages.map((m) => `${tm.topic}:${String(m.key)}`)));
          assert.deepEqual(flat, input.flatMap((tm) => tm.messages.map((m) => `${tm.topic}:${String(m.key)}`)));
          for (const r of requests) {
            const payload = r.flatMap((tm) => tm.messages).map((m) => (m.value as Buffer).length + String(m.key).length);
            const total = payload.reduce((a, b) => a + b, 0);
            assert.ok(total <= budget || payload.length === 1, `request of ${total} bytes in ${payload.length} messages`);
            assert.ok(r.every((tm) => tm.messages.length > 0));
          }
        },
      ),
    );
  });
});
