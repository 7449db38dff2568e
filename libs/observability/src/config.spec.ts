import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  KAFKA_BROKERS: z.string().min(1).optional(),
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    assert.deepEqual(loadConfig(schema, {}), { PORT: 3000 });
    assert.deepEqual(loadConfig(schema, { PORT: '8080', KAFKA_BROKERS: 'a:1' }), { PORT: 8080, KAFKA_BROKERS: 'a:1' });
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadConfig(schema, { PORT: '70000' }),
      (err: unknown) => err instanceof ConfigError && err.message.includes('PORT') && err.problems.length === 1,
    );
  });
});
