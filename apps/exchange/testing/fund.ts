// Test support: funds traders on the local chain and waits until the risk shards have their deposits (the
// chain watcher turns the deposit events into chain events, the shards apply them). The launcher credits
// nothing by itself: funds reach the shards only through the watcher.
import type { ChainEvent } from '@parallax/contracts';
import { drained, publishChainEvents } from '@parallax/risk-service/testing';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import type { Address } from 'viem';
import type { RunningExchange } from '../exchange.js';

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function withTransport<T>(exchange: RunningExchange, brokers: readonly string[] | undefined, f: (t: Transport) => Promise<T>): Promise<T> {
  if (exchange.log !== undefined) return f(exchange.log);
  const kafka = createKafkaTransport({ brokers: [...(brokers ?? [])], clientId: 'exchange-test-funding' });
  try {
    return await f(kafka);
  } finally {
    await kafka.close();
  }
}

export async function fundThroughRisk(
  exchange: RunningExchange,
  traders: readonly Address[],
  amounts: Partial<Record<'BASE' | 'ALT' | 'QUOTE', bigint>> = {},
  brokers?: readonly string[],
): Promise<void> {
  const local = exchange.localChain;
  if (local === undefined) throw new Error('fundThroughRisk needs the local chain');
  await local.fundTraders(traders, amounts);
  await chainEventsApplied(exchange, brokers);
}

/** Waits until the watcher has committed the chain's head and the risk shards have applied every chain event. */
export async function chainEventsApplied(exchange: RunningExchange, brokers?: readonly string[]): Promise<void> {
  const local = exchange.localChain;
  const watcher = exchange.chainWatcher;
  const risk = exchange.risk;
  if (local === undefined || watcher === undefined || risk === undefined) throw new Error('needs the local chain, its watcher and the risk shards');
  const head = await local.chain.publicClient.getBlockNumber();
  await until('the chain watcher to commit the deposits', () => Promise.resolve(BigInt(watcher.watcher.health().committedBlock ?? '0') >= head));
  const topic = risk.topics.chainEvents;
  await withTransport(exchange, brokers, (t) => until('the risk shards to apply the chain events', () => drained(t, [[topic, risk.groupId]])));
}

/**
 * Chain events written straight to the shards' chain-events input, as the watcher would (tests of trading
 * keys use it for KeyAuthorized / KeyRevoked without sending the transactions).
 */
export async function publish(exchange: RunningExchange, events: readonly ChainEvent[], brokers?: readonly string[]): Promise<void> {
  const risk = exchange.risk;
  if (risk === undefined) throw new Error('no risk shards in this exchange');
  if (events.length === 0) return;
  await withTransport(exchange, brokers, (t) => publishChainEvents(t, risk.topics.chainEvents, risk.shards, events));
}
