// The scripts' Kafka clients (ACLs, readiness probe) authenticate exactly like the services: one reader of
// KAFKA_SASL_* / KAFKA_SSL*, @parallax/transport's kafkaSecurityFromEnv (strict: a half-configured client is refused
// naming the variable; passwords may come from KAFKA_SASL_PASSWORD_FILE, TLS from KAFKA_SSL_*_FILE).
export async function kafkaClientSecurity(env = process.env) {
  let transport;
  try {
    transport = await import('@parallax/transport');
  } catch (error) {
    throw new Error(`@parallax/transport is not built (run npm run build first): ${error instanceof Error ? error.message : String(error)}`);
  }
  return transport.kafkaJsSecurity(transport.kafkaSecurityFromEnv(env));
}
