// Consumes the settlement service's status topic (its own group, from the beginning, so a restarted gateway
// shows the same recent batches) into SettlementBatches, and tells listeners (the WebSocket channel) each change.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { decodeSettlementStatus } from '@parallax/contracts';
import type { GroupConsumer } from '@parallax/transport';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { SettlementBatches, type BatchView } from './settlement-batches.js';

export type BatchChangeListener = (batch: BatchView) => void;

@Injectable()
export class SettlementStatusService implements OnApplicationShutdown {
  private readonly log = new Logger('SettlementStatus');
  private readonly batches = new SettlementBatches();
  private readonly listeners = new Set<BatchChangeListener>();
  private consumer: GroupConsumer | undefined;
  private skipped = 0;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  /** Without a settlement-status topic (no settlement deployed) the list stays empty. */
  async start(): Promise<void> {
    const topic = this.ctx.topics.settlementStatus;
    if (topic === undefined) return;
    this.consumer = await this.ctx.transport.consumer({
      groupId: `parallax-gateway-settlement-${this.ctx.config.GATEWAY_INSTANCE}-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
    });
    await this.consumer.run({
      eachBatch: (batch) => {
        for (const m of batch.messages) {
          let changed: BatchView | undefined;
          try {
            changed = this.batches.apply(decodeSettlementStatus(m.value));
          } catch (err) {
            // One malformed status never stops the feed: it is counted and logged, the next one applies.
            this.skipped++;
            this.log.warn(`skipped a settlement status at offset ${m.offset}: ${err instanceof Error ? err.message : String(err)}`);
            continue;
          }
          if (changed !== undefined) for (const l of this.listeners) l(changed);
        }
        return Promise.resolve();
      },
    });
    this.consumer.stopped.catch((err: unknown) => {
      this.log.error(`the settlement status feed stopped: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  recent(limit: number): BatchView[] {
    return this.batches.recent(limit);
  }

  /** Malformed status messages skipped since start. */
  get skippedMessages(): number {
    return this.skipped;
  }

  onChange(listener: BatchChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.close();
  }
}
