// Which trading keys each trader has authorized, as the chain watcher reports them (KeyAuthorized /
// KeyRevoked chain events, after the confirmation depth). The risk shards decide whether a key may trade
// (they refuse an order or cancel of an unauthorized key with NOT_AUTHORIZED); the gateway needs this only
// for what it decides itself: a Login signed by a key opens the trader's private reads and WebSocket session.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decodeChainEventBatch, MessageType, peekMessageType } from '@parallax/contracts';
import type { GroupConsumer } from '@parallax/transport';
import type { Address } from 'viem';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';

@Injectable()
export class TradingKeys implements OnApplicationShutdown {
  private readonly keys = new Map<Address, Set<Address>>();
  private consumer: GroupConsumer | undefined;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  async start(): Promise<void> {
    const { transport, topics } = this.ctx;
    this.consumer = await transport.consumer({ groupId: `parallax-gateway-keys-${this.ctx.config.GATEWAY_INSTANCE}-${randomUUID()}`, topics: [topics.chainEvents], fromBeginning: true });
    await this.consumer.run({
      eachBatch: (batch) => {
        for (const m of batch.messages) this.apply(m.value);
        return Promise.resolve();
      },
    });
  }

  private apply(value: Uint8Array): void {
    try {
      if (peekMessageType(value) !== MessageType.ChainEventBatch) return;
      for (const e of decodeChainEventBatch(value).events) {
        if (e.type === 'keyAuthorized') {
          let set = this.keys.get(e.account);
          if (set === undefined) this.keys.set(e.account, (set = new Set()));
          set.add(e.key);
        } else if (e.type === 'keyRevoked') {
          this.keys.get(e.account)?.delete(e.key);
        }
      }
    } catch {
      // Not a valid contract message: the risk shards dead-letter it; it authorizes nothing here.
    }
  }

  isAuthorized(trader: Address, key: Address): boolean {
    return this.keys.get(trader)?.has(key) === true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.close();
  }
}
