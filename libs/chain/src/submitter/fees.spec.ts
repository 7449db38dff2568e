import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpRequestError, InternalRpcError, RpcRequestError, TransactionReceiptNotFoundError } from 'viem';
import { ChainError } from '../errors.js';
import { settlerConfig } from './config.js';
import { backoffMs, bumpFees, gasWithMargin, initialFees, isAcceptedReplacement } from './fees.js';
import { isTransientRpcError, retryTransient, sleep } from './rpc.js';

const GWEI = 1_000_000_000n;

describe('fees', () => {
  test('initial fees are 2 * baseFee + priority, capped, with priority never above the max fee', () => {
    assert.deepEqual(initialFees(10n * GWEI, 2n * GWEI, 100n * GWEI), { maxFeePerGas: 22n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
    assert.deepEqual(initialFees(10n * GWEI, 2n * GWEI, 15n * GWEI), { maxFeePerGas: 15n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
    assert.deepEqual(initialFees(10n * GWEI, 2n * GWEI, GWEI), { maxFeePerGas: GWEI, maxPriorityFeePerGas: GWEI });
  });

  test('a bump raises both fields by the percentage, rounded up, and follows a risen base fee', () => {
    const prev = { maxFeePerGas: 1_001n, maxPriorityFeePerGas: 100n };
    assert.deepEqual(bumpFees(prev, 13, 0n, 10n ** 18n), { maxFeePerGas: 1_132n, maxPriorityFeePerGas: 113n });
    // base fee rose to 5000: the max fee must cover 2 * base + the bumped tip.
    assert.deepEqual(bumpFees(prev, 13, 5_000n, 10n ** 18n), { maxFeePerGas: 10_113n, maxPriorityFeePerGas: 113n });
    // zero tip still moves (nodes compare with >=, so +0 would be refused).
    assert.deepEqual(bumpFees({ maxFeePerGas: 10n, maxPriorityFeePerGas: 0n }, 13, 0n, 100n), { maxFeePerGas: 12n, maxPriorityFeePerGas: 1n });
  });

  test('every bump is one a node accepts as a replacement, until the cap leaves no room', () => {
    let fees = { maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI };
    const cap = 10n * GWEI;
    let bumps = 0;
    for (;;) {
      const next = bumpFees(fees, 13, GWEI, cap);
      if (next === undefined) break;
      assert.ok(isAcceptedReplacement(fees, next));
      assert.ok(next.maxFeePerGas <= cap && next.maxPriorityFeePerGas <= next.maxFeePerGas);
      fees = next;
      bumps++;
    }
    assert.ok(bumps >= 5, `only ${bumps} bumps`);
    assert.ok(fees.maxFeePerGas * 113n > cap * 100n, 'stopped only when a 10% bump no longer fits under the cap');
  });

  test('replacement rule: both fields need +10%', () => {
    const p = { maxFeePerGas: 100n, maxPriorityFeePerGas: 10n };
    assert.equal(isAcceptedReplacement(p, { maxFeePerGas: 110n, maxPriorityFeePerGas: 11n }), true);
    assert.equal(isAcceptedReplacement(p, { maxFeePerGas: 109n, maxPriorityFeePerGas: 20n }), false);
    assert.equal(isAcceptedReplacement(p, { maxFeePerGas: 200n, maxPriorityFeePerGas: 10n }), false);
  });

  test('gas margin rounds up', () => {
    assert.equal(gasWithMargin(100_001n, 20), 120_002n);
    assert.equal(gasWithMargin(7n, 0), 7n);
  });
});

describe('backoff and retries', () => {
  test('backoff doubles from the initial delay up to the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 100].map((a) => backoffMs(a, 100, 1_000)), [100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  test('network failures are transient; reverts and not-found answers are not', () => {
    const down = new HttpRequestError({ url: 'http://127.0.0.1:1', cause: Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }) });
    assert.equal(isTransientRpcError(down), true);
    assert.equal(isTransientRpcError(new HttpRequestError({ url: 'x', status: 503 })), true);
    assert.equal(isTransientRpcError(new HttpRequestError({ url: 'x', status: 400 })), false);
    assert.equal(isTransientRpcError(new InternalRpcError(new RpcRequestError({ body: {}, url: 'x', error: { code: -32603, message: 'boom' } }))), false);
    assert.equal(isTransientRpcError(new TransactionReceiptNotFoundError({ hash: '0x01' })), false);
    assert.equal(isTransientRpcError(new Error('execution reverted')), false);
  });

  test('retryTransient retries transient failures with backoff and rethrows others at once', async () => {
    let calls = 0;
    const delays: number[] = [];
    const value = await retryTransient(
      () => {
        calls++;
        if (calls < 4) return Promise.reject(new HttpRequestError({ url: 'x', status: 502 }));
        return Promise.resolve('ok');
      },
      { initialMs: 1, maxMs: 3, onRetry: (_e, _a, d) => delays.push(d) },
    );
    assert.equal(value, 'ok');
    assert.deepEqual(delays, [1, 2, 3]);
    await assert.rejects(
      retryTransient(() => Promise.reject(new Error('nope')), { initialMs: 1, maxMs: 1 }),
      /nope/,
    );
  });

  test('an abort ends a retry loop and a sleep', async () => {
    const controller = new AbortController();
    const pending = retryTransient(() => Promise.reject(new HttpRequestError({ url: 'x' })), { initialMs: 50, maxMs: 50, signal: controller.signal });
    setTimeout(() => {
      controller.abort(new Error('shutting down'));
    }, 20);
    await assert.rejects(pending, /shutting down/);
    await assert.rejects(sleep(10_000, AbortSignal.abort(new Error('now'))), /now/);
  });
});

describe('config', () => {
  test('defaults validate; bad values name the field', () => {
    assert.equal(settlerConfig().confirmations >= 1, true);
    assert.throws(() => settlerConfig({ feeBumpPercent: 10 }), (e: unknown) => e instanceof ChainError && e.code === 'INVALID_CONFIG' && /feeBumpPercent/.test(e.message));
    assert.throws(() => settlerConfig({ confirmations: 0 }), /confirmations/);
    assert.throws(() => settlerConfig({ rpcRetryInitialMs: 100, rpcRetryMaxMs: 10 }), /rpcRetryMaxMs/);
  });
});
