import type { OutgoingMessage, TopicPartitionOffset, Transaction } from './transport.js';

export interface BufferedSend {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

export interface BufferedCommit {
  readonly groupId: string;
  readonly offsets: readonly TopicPartitionOffset[];
}

/**
 * Collects one transaction's sends and offset commits; every transport applies them only at commit, so a
 * `fill` that throws leaves nothing behind anywhere.
 */
export class BufferedTransaction implements Transaction {
  readonly sends: BufferedSend[] = [];
  readonly commits: BufferedCommit[] = [];
  private open = true;

  send(topic: string, messages: readonly OutgoingMessage[]): void {
    this.guard();
    if (messages.length > 0) this.sends.push({ topic, messages: messages.slice() });
  }

  commitOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): void {
    this.guard();
    if (offsets.length > 0) this.commits.push({ groupId, offsets: offsets.slice() });
  }

  /** Ends the collection phase: later calls (from a leaked reference to `tx`) throw. */
  seal(): void {
    this.open = false;
  }

  get isEmpty(): boolean {
    return this.sends.length === 0 && this.commits.length === 0;
  }

  private guard(): void {
    if (!this.open) throw new Error('the transaction has already ended: send/commitOffsets must be called inside fill');
  }
}

/** Runs async steps one at a time, in call order (a producer has at most one open transaction). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
