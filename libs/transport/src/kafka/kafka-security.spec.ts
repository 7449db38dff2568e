import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kafkaJsSecurity, kafkaSecurityFromEnv } from './kafka-security.js';

const dir = mkdtempSync(join(tmpdir(), 'kafka-security-spec-'));
const file = (name: string, content: string): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('kafkaSecurityFromEnv', () => {
  it('is plaintext without SASL when nothing is set (a development broker that allows it)', () => {
    assert.deepEqual(kafkaSecurityFromEnv({}), {});
    assert.deepEqual(kafkaJsSecurity(kafkaSecurityFromEnv({})), {});
  });

  it('reads SCRAM credentials, the password from a file without its trailing newline', () => {
    assert.deepEqual(kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }), {
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    const pw = file('pw', 's3cret\n');
    assert.deepEqual(kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: pw }).sasl, {
      mechanism: 'scram-sha-256',
      username: 'u',
      password: 's3cret',
    });
  });

  it('builds TLS options for a managed cluster: system CAs, a private CA, mTLS', () => {
    assert.deepEqual(kafkaSecurityFromEnv({ KAFKA_SSL: 'true' }), { ssl: true });
    const ca = file('ca.pem', 'CA');
    const cert = file('cert.pem', 'CERT');
    const key = file('key.pem', 'KEY');
    assert.deepEqual(kafkaSecurityFromEnv({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: ca, KAFKA_SSL_CERT_FILE: cert, KAFKA_SSL_KEY_FILE: key }).ssl, {
      ca: 'CA',
      cert: 'CERT',
      key: 'KEY',
    });
    const managed = kafkaSecurityFromEnv({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'key', KAFKA_SASL_PASSWORD: 'secret' });
    assert.equal(managed.ssl, true);
    assert.equal(managed.sasl?.mechanism, 'plain');
  });

  it('refuses half-configured or unsafe settings, naming the variable and never the secret', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, /INVALID_CONFIG: KAFKA_SASL_MECHANISM must be one of/],
      [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_USERNAME is required/],
      [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }, /KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\) is required/],
      [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'hunter2' }, /KAFKA_SASL_MECHANISM must be set/],
      [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'a', KAFKA_SASL_PASSWORD_FILE: '/x' }, /both set/],
      [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') }, /KAFKA_SASL_PASSWORD_FILE names a file that cannot be read/],
      [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'hunter2' }, /plain sends the password in clear/],
      [{ KAFKA_SSL: 'yes' }, /KAFKA_SSL must be true or false/],
      [{ KAFKA_SSL_CA_FILE: '/ca.pem' }, /KAFKA_SSL must be true when/],
      [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/cert.pem' }, /KAFKA_SSL_KEY_FILE is required/],
    ];
    for (const [env, pattern] of cases) {
      assert.throws(
        () => kafkaSecurityFromEnv(env),
        (error: unknown) => error instanceof Error && pattern.test(error.message) && !error.message.includes('hunter2'),
        JSON.stringify(env),
      );
    }
  });
});
