import type { Transport } from '@parallax/transport';
import { LoadGeneratorError } from '../workload/workload.js';

type CreateKafkaTransport = (options: { brokers: string[]; clientId: string }) => Transport | Promise<Transport>;

/**
 * The Kafka implementation of Transport from @parallax/transport, looked up at run time so this app builds
 * against transport builds that do not ship it. Throws LoadGeneratorError when it is missing.
 */
export async function openKafkaTransport(brokers: readonly string[], clientId: string): Promise<Transport> {
  const mod = (await import('@parallax/transport')) as Record<string, unknown>;
  const create = mod.createKafkaTransport;
  if (typeof create !== 'function') throw new LoadGeneratorError('INVALID_OPTION', '@parallax/transport does not provide createKafkaTransport in this build');
  return await (create as CreateKafkaTransport)({ brokers: [...brokers], clientId });
}
