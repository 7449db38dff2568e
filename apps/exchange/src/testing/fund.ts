// Test support: funds traders on the local chain AND tells the risk shards, as the chain watcher would once
// the deposits are confirmed. Only tests call this: the launcher has no path that credits funds by itself.
import type { ChainEvent } from '@parallax/contracts';
import { publishChainEvents } from '@parallax/risk-service';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import type { Address } from 'viem';
import type { RunningExchange } from '../exchange.js';

export async function fundThroughRisk(
  exchange: RunningExchange,
  traders: readonly Address[],
  amounts: Partial<Record<'BASE' | 'ALT' | 'QUOTE', bigint>> = {},
  brokers?: readonly string[],
): Promise<void> {
  const local = exchange.localChain;
  const risk = exchange.risk;
  if (local === undefined || risk === undefined) throw new Error('fundThroughRisk needs the local chain and the risk shards');
  const before = new Map(local.deposits);
  await local.fundTraders(traders, amounts);
  const events: ChainEvent[] = [];
  for (const [key, total] of local.deposits) {
    const added = total - (before.get(key) ?? 0n);
    if (added === 0n) continue;
    const [account, token] = key.split('/') as [Address, Address];
    events.push({ type: 'deposit', account, token, amount: added });
  }
  await publish(exchange, events, brokers);
}

/** Chain events (trading-key authorizations, revocations...) written to the risk shards' input. */
export async function publish(exchange: RunningExchange, events: readonly ChainEvent[], brokers?: readonly string[]): Promise<void> {
  const risk = exchange.risk;
  if (risk === undefined) throw new Error('no risk shards in this exchange');
  if (events.length === 0) return;
  let transport: Transport;
  let close = (): Promise<void> => Promise.resolve();
  if (exchange.log !== undefined) {
    transport = exchange.log;
  } else {
    const kafka = createKafkaTransport({ brokers: [...(brokers ?? [])], clientId: 'exchange-test-chain-events' });
    transport = kafka;
    close = () => kafka.close();
  }
  try {
    await publishChainEvents(transport, risk.topics.chainEvents, risk.shards, events);
  } finally {
    await close();
  }
}
