import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { fromKafkaMessage, isFencedError, isUnknownTopicError, toBuffer } from './kafka-util.js';

describe('kafka-util', () => {
  it('recognises fencing by protocol type or code, also when wrapped by kafkajs retries', () => {
    assert.ok(isFencedError({ type: 'INVALID_PRODUCER_EPOCH', code: 47 }));
    assert.ok(isFencedError({ type: 'PRODUCER_FENCED', code: 90 }));
    assert.ok(isFencedError({ type: 'KAFKAJS_UNKNOWN_ERROR_CODE', code: 90 }));
    assert.ok(isFencedError({ name: 'KafkaJSNumberOfRetriesExceeded', cause: { type: 'INVALID_PRODUCER_EPOCH', code: 47 } }));
    assert.ok(!isFencedError({ type: 'INVALID_TXN_STATE', code: 48 }));
    assert.ok(!isFencedError(Object.assign(new Error('socket'), { code: 47 })), 'a numeric code alone is not a Kafka error');
    assert.ok(!isFencedError(undefined));
    assert.ok(isUnknownTopicError({ cause: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } }));
  });

  it('turns kafkajs messages into contract messages with plain Uint8Array values and string headers', () => {
    const message: KafkaMessage = {
      key: Buffer.from('market-1'),
      value: Buffer.from('payload'),
      timestamp: '1700000000000',
      attributes: 0,
      offset: '42',
      headers: { a: Buffer.from('x'), b: 'y', c: [Buffer.from('1'), Buffer.from('2')], d: undefined },
    };
    const m = fromKafkaMessage('orders', 3, message);
    assert.equal(m.topic, 'orders');
    assert.equal(m.partition, 3);
    assert.equal(m.offset, 42);
    assert.equal(m.key, 'market-1');
    assert.equal(m.timestamp, 1_700_000_000_000);
    assert.equal(Object.getPrototypeOf(m.value), Uint8Array.prototype);
    assert.equal(Buffer.from(m.value).toString(), 'payload');
    assert.deepEqual(m.headers, { a: 'x', b: 'y', c: '2' });
    const empty = fromKafkaMessage('orders', 0, { ...message, key: null, value: null, headers: {} });
    assert.equal(empty.key, null);
    assert.equal(empty.value.byteLength, 0);
    assert.deepEqual(empty.headers, {});
  });

  it('shares bytes with the Buffer it hands to kafkajs', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const buffer = toBuffer(bytes);
    assert.deepEqual([...buffer], [2, 3]);
    assert.equal(buffer.buffer, bytes.buffer);
  });
});
