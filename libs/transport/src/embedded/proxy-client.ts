import type { MessagePort } from 'node:worker_threads';
import { BufferedTransaction, SerialQueue } from '../buffered-transaction.js';
import {
  TransportError,
  type ConsumedMessage,
  type ConsumerHandlers,
  type ConsumerOptions,
  type GroupConsumer,
  type OutgoingMessage,
  type Producer,
  type ProducerOptions,
  type TopicSpec,
  type Transaction,
  type Transport,
} from '../transport.js';
import {
  fromWire,
  packOutgoing,
  toWire,
  unpackConsumed,
  type Call,
  type ClientMessage,
  type PackedConsumed,
  type PackedOutgoing,
  type Request,
  type ServerMessage,
  type WireError,
} from './proxy-protocol.js';

/**
 * A Transport for a thread that does not own the embedded log: every call goes over `port` to a
 * `serveEmbeddedTransport` in the thread that does. Same contract, same errors (TransportError codes cross
 * the port); consumer handlers run here, in this thread. Closing the transport closes the port.
 */
export function connectEmbeddedTransport(port: MessagePort): Transport {
  return new ProxyTransport(port);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class ProxyTransport implements Transport {
  readonly kind = 'embedded' as const;
  private readonly pending = new Map<number, Pending>();
  private readonly consumers = new Map<number, ProxyConsumer>();
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: ServerMessage) => {
      this.onMessage(message);
    });
    port.on('close', () => {
      this.closed = true;
      this.failAll();
    });
  }

  request<T>(req: Request, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new TransportError('TRANSPORT_CLOSED', 'the transport is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const settle = (value: unknown) => {
        resolve(value as T);
      };
      this.pending.set(id, { resolve: settle, reject });
      const message: ClientMessage = { t: 'req', id, req };
      this.port.postMessage(message, transfer);
    });
  }

  private onMessage(message: ServerMessage): void {
    switch (message.t) {
      case 'res': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.error) pending.reject(fromWire(message.error));
        else pending.resolve(message.value);
        return;
      }
      case 'call': {
        const consumer = this.consumers.get(message.consumer);
        const answer = consumer ? consumer.dispatch(message.call) : Promise.reject(new Error(`unknown consumer ${message.consumer}`));
        answer.then(
          () => {
            this.reply(message.id, null);
          },
          (error: unknown) => {
            this.reply(message.id, toWire(error));
          },
        );
        return;
      }
      case 'stopped':
        this.consumers.get(message.consumer)?.onStopped(message.error);
        this.consumers.delete(message.consumer);
        return;
    }
  }

  private reply(id: number, error: WireError | null): void {
    if (this.closed) return;
    const message: ClientMessage = { t: 'ret', id, error };
    this.port.postMessage(message);
  }

  private failAll(): void {
    const error = new TransportError('TRANSPORT_CLOSED', 'the connection to the embedded log closed');
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    for (const consumer of this.consumers.values()) consumer.onStopped(toWire(error));
    this.consumers.clear();
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.request({ op: 'ensureTopics', specs });
  }

  partitionCount(topic: string): Promise<number> {
    return this.request({ op: 'partitionCount', topic });
  }

  async producer(options: ProducerOptions = {}): Promise<Producer> {
    const handle = await this.request<number>({ op: 'producer', transactionalId: options.transactionalId ?? null });
    return new ProxyProducer(this, handle);
  }

  async consumer(options: ConsumerOptions): Promise<GroupConsumer> {
    const handle = await this.request<number>({ op: 'consumer', options });
    const consumer = new ProxyConsumer(this, handle);
    this.consumers.set(handle, consumer);
    return consumer;
  }

  async *read(topic: string, partition: number, from: number, to?: number): AsyncIterable<readonly ConsumedMessage[]> {
    const handle = await this.request<number>({ op: 'readOpen', topic, partition, from, to: to ?? null });
    let finished = false;
    try {
      for (;;) {
        const packed = await this.request<PackedConsumed | null>({ op: 'readNext', read: handle });
        if (packed === null) {
          finished = true;
          return;
        }
        yield unpackConsumed(packed);
      }
    } catch (error) {
      finished = true; // the server forgets a read that failed
      throw error;
    } finally {
      if (!finished) await this.request({ op: 'readClose', read: handle }).catch(() => undefined);
    }
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    return new Map(await this.request<[number, number][]>({ op: 'committedOffsets', groupId, topic }));
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    return new Map(await this.request<[number, number][]>({ op: 'endOffsets', topic }));
  }

  async startOffsets(topic: string): Promise<Map<number, number>> {
    return new Map(await this.request<[number, number][]>({ op: 'startOffsets', topic }));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.closed) return;
      try {
        await this.request({ op: 'close' });
      } finally {
        this.closed = true;
        this.failAll();
        this.port.close();
      }
    })();
    return this.closing;
  }
}

class ProxyProducer implements Producer {
  private readonly queue = new SerialQueue();
  private closed = false;

  constructor(
    private readonly transport: ProxyTransport,
    private readonly handle: number,
  ) {}

  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(closedProducer());
    const { batch, transfer } = packOutgoing(messages);
    return this.transport.request({ op: 'send', producer: this.handle, topic, batch }, transfer);
  }

  transaction(fill: (tx: Transaction) => void | Promise<void>): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) throw closedProducer();
      const tx = new BufferedTransaction();
      try {
        await fill(tx);
      } finally {
        tx.seal();
      }
      // Fencing, closing and "not transactional" are decided by the log, at commit.
      const transfer: ArrayBuffer[] = [];
      const sends: { topic: string; batch: PackedOutgoing }[] = tx.sends.map((s) => {
        const packed = packOutgoing(s.messages);
        transfer.push(...packed.transfer);
        return { topic: s.topic, batch: packed.batch };
      });
      await this.transport.request({ op: 'transaction', producer: this.handle, sends, commits: tx.commits }, transfer);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.transport.request({ op: 'closeProducer', producer: this.handle });
    } catch (error) {
      if (!(error instanceof TransportError && error.code === 'TRANSPORT_CLOSED')) throw error;
    }
  }
}

const closedProducer = () => new TransportError('PRODUCER_CLOSED', 'the producer is closed');

class ProxyConsumer implements GroupConsumer {
  readonly stopped: Promise<void>;
  private handlers: ConsumerHandlers | undefined;
  /** The first error a handler threw here: `stopped` rejects with it (not with its copy from the other side). */
  private handlerError: { error: unknown } | undefined;
  private resolveStopped!: () => void;
  private rejectStopped!: (error: unknown) => void;
  private isStopped = false;

  constructor(
    private readonly transport: ProxyTransport,
    private readonly handle: number,
  ) {
    this.stopped = new Promise<void>((resolve, reject) => {
      this.resolveStopped = resolve;
      this.rejectStopped = reject;
    });
    this.stopped.catch(() => undefined);
  }

  async run(handlers: ConsumerHandlers): Promise<void> {
    if (this.handlers) throw new Error('the consumer was already started');
    this.handlers = handlers;
    await this.transport.request({
      op: 'run',
      consumer: this.handle,
      assigned: handlers.onAssigned !== undefined,
      revoked: handlers.onRevoked !== undefined,
    });
  }

  async close(): Promise<void> {
    if (!this.isStopped) {
      try {
        await this.transport.request({ op: 'closeConsumer', consumer: this.handle });
      } catch (error) {
        if (!(error instanceof TransportError && error.code === 'TRANSPORT_CLOSED')) throw error;
      }
      if (!this.handlers) this.onStopped(null);
    }
    await this.stopped.catch(() => undefined);
  }

  async dispatch(call: Call): Promise<void> {
    const handlers = this.handlers;
    if (!handlers) throw new Error('callback before run');
    try {
      switch (call.kind) {
        case 'batch':
          await handlers.eachBatch({
            topic: call.batch.topic,
            partition: call.batch.partition,
            messages: unpackConsumed(call.batch),
            highWatermark: call.highWatermark,
          });
          return;
        case 'assigned':
          await handlers.onAssigned?.(call.partitions);
          return;
        case 'revoked':
          await handlers.onRevoked?.(call.partitions);
          return;
      }
    } catch (error) {
      this.handlerError ??= { error };
      throw error;
    }
  }

  onStopped(error: WireError | null): void {
    if (this.isStopped) return;
    this.isStopped = true;
    if (error === null) this.resolveStopped();
    else this.rejectStopped(this.handlerError ? this.handlerError.error : fromWire(error));
  }
}
