import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpException, InternalServerErrorException, ServiceUnavailableException } from '@nestjs/common';
import { toApiError } from './api-exception.filter.js';

describe('toApiError: an HTTP 503 (a readiness check that failed)', () => {
  it('is UNAVAILABLE (503), naming each failed check and its message', () => {
    const e = toApiError(
      new ServiceUnavailableException({
        status: 'error',
        info: { broker: { status: 'up' } },
        error: { database: { status: 'down', message: 'read-model tables missing: market_orders' }, chain: { status: 'down' } },
      }),
    );
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.status, 503);
    assert.equal(e.message, 'not ready: database (read-model tables missing: market_orders), chain');
  });

  it('says only "not ready" when the answer names nothing, and cuts a long message', () => {
    assert.equal(toApiError(new ServiceUnavailableException()).message, 'not ready');
    assert.equal(toApiError(new HttpException({ error: 'nope' }, 503)).message, 'not ready');
    const long = toApiError(new ServiceUnavailableException({ error: { database: { message: 'x'.repeat(1_000) } } }));
    assert.equal(long.message, `not ready: database (${'x'.repeat(200)})`);
  });

  it('other 5xx stay INTERNAL with no detail', () => {
    const e = toApiError(new InternalServerErrorException({ error: { database: { message: 'secret host 10.0.0.5' } } }));
    assert.equal(e.code, 'INTERNAL');
    assert.equal(e.message, 'internal error');
  });
});
