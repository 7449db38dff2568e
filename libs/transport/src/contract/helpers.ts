import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumedMessage, Transport } from '../transport.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const enc = (s: string): Uint8Array => encoder.encode(s);
export const dec = (b: Uint8Array): string => decoder.decode(b);

let counter = 0;
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** A name no other test (in this or a concurrent run) uses: topics and groups live as long as the broker. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${runId}-${counter}`;
}

/** Polls `check` until it returns true (or throws the last assertion error after `timeoutMs`). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      if (lastError instanceof Error) {
        lastError.message = `timed out after ${timeoutMs} ms waiting for ${what}: ${lastError.message}`;
        throw lastError;
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(10);
  }
}

/** Every committed message of one partition in [from, to), flattened. */
export async function readAll(t: Transport, topic: string, partition: number, from = 0, to?: number): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const batch of t.read(topic, partition, from, to)) out.push(...batch);
  return out;
}

/** Every committed message of a topic, partition by partition. */
export async function readTopic(t: Transport, topic: string): Promise<ConsumedMessage[]> {
  const partitions = await t.partitionCount(topic);
  const out: ConsumedMessage[] = [];
  for (let p = 0; p < partitions; p++) out.push(...(await readAll(t, topic, p)));
  return out;
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
