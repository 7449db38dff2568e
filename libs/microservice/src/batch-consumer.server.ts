import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { ConsumedBatch, ConsumerOptions, GroupConsumer, TopicPartition, Transport } from '@parallax/transport';
import { isObservable, lastValueFrom } from 'rxjs';

/** Event patterns the batch consumer dispatches to (handlers declared with @EventPattern). */
export const BatchPatterns = {
  /** Payload: readonly TopicPartition[] (every partition now owned). */
  assigned: 'parallax.partitions.assigned',
  /** Payload: readonly TopicPartition[] (partitions lost). */
  revoked: 'parallax.partitions.revoked',
  /** Payload: ConsumedBatch (one partition, offset order). */
  batch: 'parallax.batch',
} as const;

/** Context handed to handlers next to the payload: which consumer group delivered it. */
export class BatchContext extends BaseRpcContext<[groupId: string]> {
  get groupId(): string {
    return this.args[0];
  }
}

type Status = 'connecting' | 'running' | 'stopped' | 'crashed';

/**
 * Nest transport strategy that consumes Parallax topics through a Transport group consumer, one batch of
 * one partition at a time (Nest's built-in ServerKafka hands out single messages, too slow for matching).
 * Rebalance callbacks and batches are dispatched to @EventPattern handlers and awaited: a handler that
 * throws stops the consumer (crash-only: the process exits, the group rebalances, a restart restores from
 * the last committed transaction). `stopped` settles when consumption ends.
 */
export class BatchConsumerServer extends Server<Record<string, never>, Status> implements CustomTransportStrategy {
  private consumer: GroupConsumer | undefined;
  private resolveStopped!: () => void;
  private rejectStopped!: (err: unknown) => void;
  /** Resolves when the consumer is closed, rejects if a handler (or the transport) failed. */
  readonly stopped: Promise<void>;

  constructor(
    private readonly transport: Transport,
    private readonly options: ConsumerOptions,
  ) {
    super();
    this.stopped = new Promise<void>((resolve, reject) => {
      this.resolveStopped = resolve;
      this.rejectStopped = reject;
    });
    // Callers observe failures through `stopped`; avoid an unhandled rejection when nobody awaits it yet.
    this.stopped.catch(() => undefined);
  }

  listen(callback: (err?: unknown) => void): void {
    this._status$.next('connecting');
    this.start().then(
      () => {
        this._status$.next('running');
        callback();
      },
      (err: unknown) => {
        this._status$.next('crashed');
        callback(err);
      },
    );
  }

  async close(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (c !== undefined) await c.close();
    this._status$.next('stopped');
    this.resolveStopped();
  }

  on(): never {
    throw new Error('BatchConsumerServer has no events to subscribe to; watch `stopped` or `status`');
  }

  // The signature is Nest's (Server.unwrap<T>); the caller names what it expects back.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T>(): T {
    if (this.consumer === undefined) throw new Error('BatchConsumerServer is not listening');
    return this.consumer as T;
  }

  private async start(): Promise<void> {
    const consumer = await this.transport.consumer(this.options);
    this.consumer = consumer;
    await consumer.run({
      onAssigned: (partitions) => this.dispatch(BatchPatterns.assigned, partitions),
      onRevoked: (partitions) => this.dispatch(BatchPatterns.revoked, partitions),
      eachBatch: (batch) => this.dispatch(BatchPatterns.batch, batch),
    });
    consumer.stopped.then(
      () => {
        this.resolveStopped();
      },
      (err: unknown) => {
        this._status$.next('crashed');
        this.rejectStopped(err);
      },
    );
  }

  private async dispatch(pattern: string, data: readonly TopicPartition[] | ConsumedBatch): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (handler === null) {
      // Not handling a batch would silently skip input: refuse rather than lose it.
      throw new Error(`no @EventPattern('${pattern}') handler is registered`);
    }
    const result: unknown = await handler(data, new BatchContext([this.options.groupId]));
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}
