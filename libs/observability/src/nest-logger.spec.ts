import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { NestPinoLogger } from './nest-logger.js';

function capture(level = 'trace'): { logger: NestPinoLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: new NestPinoLogger(pino({ level, base: { service: 'spec' } }, sink)), lines };
}

describe('NestPinoLogger', () => {
  it("maps Nest's levels to pino's and keeps the context", () => {
    const { logger, lines } = capture();
    logger.log('Nest application successfully started', 'NestApplication');
    logger.warn('careful');
    logger.debug('d', 'Ctx');
    logger.verbose('v', 'Ctx');
    logger.fatal('f', 'Ctx');
    assert.deepEqual(
      lines.map((l) => [l['level'], l['msg'], l['context'], l['component'], l['service']]),
      [
        [30, 'Nest application successfully started', 'NestApplication', 'nest', 'spec'],
        [40, 'careful', undefined, 'nest', 'spec'],
        [20, 'd', 'Ctx', 'nest', 'spec'],
        [10, 'v', 'Ctx', 'nest', 'spec'],
        [60, 'f', 'Ctx', 'nest', 'spec'],
      ],
    );
  });

  it('keeps the stack Nest passes with an error, and serialises Error objects', () => {
    const { logger, lines } = capture();
    logger.error('Unhandled', 'Error: boom\n    at x', 'ExceptionsHandler');
    logger.error(new Error('kaput'), 'RouterExplorer');
    assert.equal(lines[0]!['level'], 50);
    assert.equal(lines[0]!['stack'], 'Error: boom\n    at x');
    assert.equal(lines[0]!['context'], 'ExceptionsHandler');
    assert.equal(lines[1]!['msg'], 'kaput');
    assert.equal((lines[1]!['err'] as { message: string }).message, 'kaput');
    assert.equal(lines[1]!['context'], 'RouterExplorer');
  });

  it('passes objects as fields, and honours the logger level', () => {
    const { logger, lines } = capture('warn');
    logger.log({ route: '/health' }, 'RoutesResolver');
    logger.warn({ route: '/x' });
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0]!['detail'], { route: '/x' });
  });
});
