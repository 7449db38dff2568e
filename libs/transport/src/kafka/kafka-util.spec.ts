import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs, { type KafkaMessage } from 'kafkajs';
import { fromKafkaMessage, isFencedError, isRetriable, isUnknownTopicError, toBuffer, withRetry } from './kafka-util.js';

// Runtime classes kafkajs (CommonJS) exposes only on its default export under ESM.
const { KafkaJSAggregateError, KafkaJSProtocolError } = kafkajs;
/** A CreateTopics answer as kafkajs reports it: one protocol error per topic that was not created. */
const topicErrors = (...types: [string, boolean][]): Error =>
  new KafkaJSAggregateError(
    'Topic creation errors',
    types.map(([type, retriable]) => new KafkaJSProtocolError(Object.assign(new Error(type), { type, code: 0, retriable }))),
  );

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

  it('retries a CreateTopics answer whose every per-topic error is retriable or TOPIC_ALREADY_EXISTS, and nothing else', () => {
    assert.ok(isRetriable(topicErrors(['REQUEST_TIMED_OUT', true])), 'a controller that did not finish in time');
    assert.ok(isRetriable(topicErrors(['REQUEST_TIMED_OUT', true], ['TOPIC_ALREADY_EXISTS', false])), 'some created before the timeout');
    assert.ok(!isRetriable(topicErrors(['REQUEST_TIMED_OUT', true], ['INVALID_REPLICATION_FACTOR', false])));
    assert.ok(!isRetriable(topicErrors(['POLICY_VIOLATION', false])));
    assert.ok(!isRetriable(new KafkaJSAggregateError('empty', [])));
  });

  it('withRetry asks again after a retriable answer, and says what it waited for when the deadline passes', async () => {
    let calls = 0;
    const answer = await withRetry(() => (++calls < 3 ? Promise.reject(topicErrors(['REQUEST_TIMED_OUT', true])) : Promise.resolve('created')), 60_000);
    assert.deepEqual([answer, calls], ['created', 3]);
    await assert.rejects(
      withRetry(() => Promise.reject(topicErrors(['REQUEST_TIMED_OUT', true])), 0, true, 'creating the topics a, b'),
      /^Error: creating the topics a, b: the broker still answered a retriable error after \d+ ms: Topic creation errors \(REQUEST_TIMED_OUT\)$/,
    );
    // Not retriable: thrown as the broker answered, at once.
    calls = 0;
    await assert.rejects(
      withRetry(() => {
        calls++;
        return Promise.reject(topicErrors(['POLICY_VIOLATION', false]));
      }, 60_000, true, 'creating the topic c'),
      (e: unknown) => e instanceof KafkaJSAggregateError,
    );
    assert.equal(calls, 1);
  });
});
