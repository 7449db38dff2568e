import type { MessagePort } from 'node:worker_threads';
import type { ConsumedMessage, ConsumerHandlers, GroupConsumer, Producer, Transaction } from '../transport.js';
import type { EmbeddedTransport } from './embedded-transport.js';
import {
  fromWire,
  packConsumed,
  toWire,
  unpackOutgoing,
  type Call,
  type ClientMessage,
  type Request,
  type ServerMessage,
  type WireError,
} from './proxy-protocol.js';

export interface EmbeddedTransportServer {
  /** Stops serving: closes everything the remote client opened (its consumers leave their groups) and the port. */
  close(): Promise<void>;
  /** Resolves once the server is closed (by `close()`, by the client, or because the port closed). */
  readonly closed: Promise<void>;
}

/**
 * Serves an embedded log on a MessagePort, for a `connectEmbeddedTransport(port)` client in another thread
 * (typically an engine in a worker thread, with the log in the main thread). The remote client gets its own
 * client of the log: when its port closes - the worker ended or died - its consumers leave their groups and
 * their partitions are rebalanced to the remaining members.
 */
export function serveEmbeddedTransport(transport: EmbeddedTransport, port: MessagePort): EmbeddedTransportServer {
  return new ProxyServer(transport.client(), port);
}

interface PendingCall {
  resolve(): void;
  reject(error: Error): void;
}

class ProxyServer implements EmbeddedTransportServer {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private shuttingDown: Promise<void> | undefined;
  private nextHandle = 1;
  private readonly producers = new Map<number, Producer>();
  private readonly consumers = new Map<number, GroupConsumer>();
  private readonly reads = new Map<number, AsyncIterator<readonly ConsumedMessage[]>>();
  private readonly calls = new Map<number, PendingCall>();
  private nextCall = 1;
  private portOpen = true;

  constructor(
    private readonly client: EmbeddedTransport,
    private readonly port: MessagePort,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    port.on('message', (message: ClientMessage) => {
      this.onMessage(message);
    });
    port.on('close', () => {
      // The client is gone: callbacks in flight can never be answered, so fail them first (a rebalance
      // waits for the in-flight eachBatch of the consumers we are about to close).
      this.portOpen = false;
      this.failCalls(new Error('the proxy connection closed'));
      void this.close();
    });
  }

  close(): Promise<void> {
    this.shuttingDown ??= this.shutdown();
    return this.shuttingDown;
  }

  private async shutdown(): Promise<void> {
    try {
      await this.client.close();
    } finally {
      this.failCalls(new Error('the proxy connection is closed'));
      this.port.close();
      this.portOpen = false;
      this.resolveClosed();
    }
  }

  private post(message: ServerMessage, transfer: ArrayBuffer[] = []): void {
    if (this.portOpen) this.port.postMessage(message, transfer);
  }

  private onMessage(message: ClientMessage): void {
    if (message.t === 'ret') {
      const pending = this.calls.get(message.id);
      if (!pending) return;
      this.calls.delete(message.id);
      if (message.error) pending.reject(fromWire(message.error));
      else pending.resolve();
      return;
    }
    const { id, req } = message;
    this.handle(req).then(
      ({ value, transfer }) => {
        this.post({ t: 'res', id, value, error: null }, transfer);
      },
      (error: unknown) => {
        this.post({ t: 'res', id, value: null, error: toWire(error) });
      },
    );
  }

  private async handle(req: Request): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
    const client = this.client;
    switch (req.op) {
      case 'ensureTopics':
        await client.ensureTopics(req.specs);
        return { value: null };
      case 'partitionCount':
        return { value: await client.partitionCount(req.topic) };
      case 'producer': {
        const producer = await client.producer(req.transactionalId === null ? {} : { transactionalId: req.transactionalId });
        const handle = this.nextHandle++;
        this.producers.set(handle, producer);
        return { value: handle };
      }
      case 'send':
        await this.producer(req.producer).send(req.topic, unpackOutgoing(req.batch));
        return { value: null };
      case 'transaction': {
        const apply = (tx: Transaction) => {
          for (const s of req.sends) tx.send(s.topic, unpackOutgoing(s.batch));
          for (const c of req.commits) tx.commitOffsets(c.groupId, c.offsets);
        };
        await this.producer(req.producer).transaction(apply);
        return { value: null };
      }
      case 'closeProducer': {
        const producer = this.producers.get(req.producer);
        this.producers.delete(req.producer);
        await producer?.close();
        return { value: null };
      }
      case 'consumer': {
        const consumer = await client.consumer(req.options);
        const handle = this.nextHandle++;
        this.consumers.set(handle, consumer);
        return { value: handle };
      }
      case 'run':
        await this.run(req.consumer, req.assigned, req.revoked);
        return { value: null };
      case 'closeConsumer': {
        const consumer = this.consumers.get(req.consumer);
        await consumer?.close();
        return { value: null };
      }
      case 'readOpen': {
        const handle = this.nextHandle++;
        const iterable = client.read(req.topic, req.partition, req.from, req.to ?? undefined);
        this.reads.set(handle, iterable[Symbol.asyncIterator]());
        return { value: handle };
      }
      case 'readNext': {
        const iterator = this.reads.get(req.read);
        if (!iterator) throw new Error(`unknown read ${req.read}`);
        let next: IteratorResult<readonly ConsumedMessage[]>;
        try {
          next = await iterator.next();
        } catch (error) {
          this.reads.delete(req.read);
          throw error;
        }
        if (next.done === true || next.value.length === 0) {
          this.reads.delete(req.read);
          return { value: null };
        }
        const first = next.value[0]!;
        const { batch, transfer } = packConsumed(first.topic, first.partition, next.value);
        return { value: batch, transfer };
      }
      case 'readClose': {
        const iterator = this.reads.get(req.read);
        this.reads.delete(req.read);
        await iterator?.return?.();
        return { value: null };
      }
      case 'committedOffsets':
        return { value: [...(await client.committedOffsets(req.groupId, req.topic))] };
      case 'endOffsets':
        return { value: [...(await client.endOffsets(req.topic))] };
      case 'startOffsets':
        return { value: [...(await client.startOffsets(req.topic))] };
      case 'close':
        await client.close();
        return { value: null };
    }
  }

  private producer(handle: number): Producer {
    const producer = this.producers.get(handle);
    if (!producer) throw new Error(`unknown producer ${handle}`);
    return producer;
  }

  private async run(handle: number, assigned: boolean, revoked: boolean): Promise<void> {
    const consumer = this.consumers.get(handle);
    if (!consumer) throw new Error(`unknown consumer ${handle}`);
    const handlers: ConsumerHandlers = {
      eachBatch: (batch) => {
        const { batch: packed, transfer } = packConsumed(batch.topic, batch.partition, batch.messages);
        return this.call(handle, { kind: 'batch', batch: packed, highWatermark: batch.highWatermark }, transfer);
      },
      ...(assigned ? { onAssigned: (partitions) => this.call(handle, { kind: 'assigned', partitions }) } : {}),
      ...(revoked ? { onRevoked: (partitions) => this.call(handle, { kind: 'revoked', partitions }) } : {}),
    };
    consumer.stopped.then(
      () => {
        this.stopped(handle, null);
      },
      (error: unknown) => {
        this.stopped(handle, toWire(error));
      },
    );
    await consumer.run(handlers);
  }

  private stopped(handle: number, error: WireError | null): void {
    this.consumers.delete(handle);
    this.post({ t: 'stopped', consumer: handle, error });
  }

  /** Runs a consumer callback in the client and resolves with its outcome. */
  private call(consumer: number, call: Call, transfer: ArrayBuffer[] = []): Promise<void> {
    if (!this.portOpen) return Promise.reject(new Error('the proxy connection is closed'));
    const id = this.nextCall++;
    return new Promise<void>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.post({ t: 'call', id, consumer, call }, transfer);
    });
  }

  private failCalls(error: Error): void {
    for (const pending of this.calls.values()) pending.reject(error);
    this.calls.clear();
  }
}
