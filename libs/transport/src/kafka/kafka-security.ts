import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { TransportError } from '../transport.js';

/** How a Kafka client authenticates and encrypts: what a managed cluster (or Parallax's own brokers) demands. */
export interface KafkaSecurity {
  /** TLS to the brokers; `true` = the system's CAs. Absent = plaintext. */
  readonly ssl?: true | ConnectionOptions;
  /** SASL authentication. Absent = none (only for a broker that allows anonymous clients). */
  readonly sasl?: SASLOptions;
}

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
const MECHANISMS: readonly KafkaSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** The variables kafkaSecurityFromEnv reads (every Kafka client of every app and test takes them). */
export const KAFKA_SECURITY_ENV = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

const invalid = (variable: string, why: string): TransportError =>
  new TransportError('INVALID_CONFIG', `${variable} ${why}`);

function readSecretFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    // The path is configuration, not a secret; the file's content never appears in a message.
    throw invalid(variable, `names a file that cannot be read (${path}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Kafka client security from the environment, strictly: a half-configured client (a user without a password, a
 * mechanism Parallax does not speak, TLS files without TLS) is refused naming the variable, never silently run in
 * plaintext. Secrets may come from files (`KAFKA_SASL_PASSWORD_FILE`) so that a Kubernetes Secret mounted as a
 * volume never passes through the process environment.
 *
 *   KAFKA_SASL_MECHANISM   plain | scram-sha-256 | scram-sha-512 (unset: no SASL)
 *   KAFKA_SASL_USERNAME    required with a mechanism
 *   KAFKA_SASL_PASSWORD    or KAFKA_SASL_PASSWORD_FILE (exactly one, with a mechanism)
 *   KAFKA_SSL              true | false (default false; required true when any KAFKA_SSL_*_FILE is set)
 *   KAFKA_SSL_CA_FILE      PEM bundle of the brokers' CA (default: the system's CAs)
 *   KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE   client certificate and key for mTLS (both or neither)
 */
export function kafkaSecurityFromEnv(env: Env = process.env): KafkaSecurity {
  const mechanismRaw = nonEmpty(env, 'KAFKA_SASL_MECHANISM');
  const username = nonEmpty(env, 'KAFKA_SASL_USERNAME');
  const password = nonEmpty(env, 'KAFKA_SASL_PASSWORD');
  const passwordFile = nonEmpty(env, 'KAFKA_SASL_PASSWORD_FILE');
  let sasl: SASLOptions | undefined;
  if (mechanismRaw === undefined) {
    if (username !== undefined || password !== undefined || passwordFile !== undefined) {
      throw invalid('KAFKA_SASL_MECHANISM', `must be set (${MECHANISMS.join(' | ')}) when KAFKA_SASL_USERNAME or a password is`);
    }
  } else {
    const mechanism = mechanismRaw.toLowerCase();
    if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
      throw invalid('KAFKA_SASL_MECHANISM', `must be one of ${MECHANISMS.join(' | ')}, got '${mechanismRaw}'`);
    }
    if (username === undefined) throw invalid('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (password !== undefined && passwordFile !== undefined) {
      throw invalid('KAFKA_SASL_PASSWORD', 'and KAFKA_SASL_PASSWORD_FILE are both set: set one');
    }
    // A trailing newline is how every editor and `kubectl create secret --from-file` leaves a file.
    const secret = password ?? (passwordFile === undefined ? undefined : readSecretFile('KAFKA_SASL_PASSWORD_FILE', passwordFile).replace(/\r?\n$/, ''));
    if (secret === undefined || secret === '') {
      throw invalid('KAFKA_SASL_PASSWORD', `(or KAFKA_SASL_PASSWORD_FILE) is required with KAFKA_SASL_MECHANISM=${mechanism}`);
    }
    sasl = { mechanism: mechanism as KafkaSaslMechanism, username, password: secret };
  }

  const sslRaw = nonEmpty(env, 'KAFKA_SSL');
  if (sslRaw !== undefined && sslRaw !== 'true' && sslRaw !== 'false') throw invalid('KAFKA_SSL', `must be true or false, got '${sslRaw}'`);
  const caFile = nonEmpty(env, 'KAFKA_SSL_CA_FILE');
  const certFile = nonEmpty(env, 'KAFKA_SSL_CERT_FILE');
  const keyFile = nonEmpty(env, 'KAFKA_SSL_KEY_FILE');
  const sslOn = sslRaw === 'true';
  if (!sslOn && (caFile !== undefined || certFile !== undefined || keyFile !== undefined)) {
    throw invalid('KAFKA_SSL', 'must be true when KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE or KAFKA_SSL_KEY_FILE is set');
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw invalid(certFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE', 'is required with the other (mTLS needs both)');
  }
  let ssl: KafkaSecurity['ssl'];
  if (sslOn) {
    const options: ConnectionOptions = {
      ...(caFile === undefined ? {} : { ca: readSecretFile('KAFKA_SSL_CA_FILE', caFile) }),
      ...(certFile === undefined ? {} : { cert: readSecretFile('KAFKA_SSL_CERT_FILE', certFile) }),
      ...(keyFile === undefined ? {} : { key: readSecretFile('KAFKA_SSL_KEY_FILE', keyFile) }),
    };
    ssl = Object.keys(options).length === 0 ? true : options;
  }
  if (sasl?.mechanism === 'plain' && ssl === undefined) {
    // PLAIN sends the password as is: on a network without TLS anyone on the path reads it.
    throw invalid('KAFKA_SASL_MECHANISM', '=plain sends the password in clear: set KAFKA_SSL=true (or use scram-sha-512)');
  }
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) };
}

/** Fields to spread into a raw kafkajs `new Kafka({...})` (tools and tests that do not go through the transport). */
export function kafkaJsSecurity(security: KafkaSecurity = kafkaSecurityFromEnv()): { ssl?: true | ConnectionOptions; sasl?: SASLOptions } {
  return { ...(security.ssl === undefined ? {} : { ssl: security.ssl }), ...(security.sasl === undefined ? {} : { sasl: security.sasl }) };
}
