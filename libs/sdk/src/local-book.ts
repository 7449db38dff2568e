// An order book kept from the gateway's book channel: a snapshot, then updates. Each update must continue
// the sequence (update.prevSeq === the book's seq) and, once applied, match the server's checksum; otherwise
// the book is unusable and the caller resubscribes (LocalBook.apply says which).
import { bookChecksum } from './book-checksum.js';

export type Level = readonly [price: string, amount: string];

export interface BookSnapshotMessage {
  readonly market: string;
  readonly seq: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
  readonly checksum: number;
}

export interface BookUpdateMessage {
  readonly market: string;
  readonly prevSeq: number;
  readonly seq: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
  readonly checksum: number;
}

export type ApplyResult = 'ok' | 'gap' | 'checksum';

export class LocalBook {
  seq = -1;
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();

  constructor(readonly market: string) {}

  get synced(): boolean {
    return this.seq >= 0;
  }

  /** Forgets the book until the next snapshot. */
  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.seq = -1;
  }

  /** Replaces the book. Returns 'checksum' if the snapshot does not match its own checksum. */
  reset(s: BookSnapshotMessage): ApplyResult {
    this.bids.clear();
    this.asks.clear();
    for (const [p, a] of s.bids) this.bids.set(p, a);
    for (const [p, a] of s.asks) this.asks.set(p, a);
    this.seq = s.seq;
    return this.verify(s.checksum);
  }

  apply(u: BookUpdateMessage): ApplyResult {
    if (!this.synced) return 'gap';
    if (u.seq <= this.seq) return 'ok';
    if (u.prevSeq !== this.seq) {
      this.seq = -1;
      return 'gap';
    }
    for (const [p, a] of u.bids) setLevel(this.bids, p, a);
    for (const [p, a] of u.asks) setLevel(this.asks, p, a);
    this.seq = u.seq;
    return this.verify(u.checksum);
  }

  private verify(checksum: number): ApplyResult {
    const { bids, asks } = this.top(Number.MAX_SAFE_INTEGER);
    if (bookChecksum(bids, asks) !== checksum) {
      this.seq = -1;
      return 'checksum';
    }
    return 'ok';
  }

  /** Best levels: bids descending, asks ascending. */
  top(depth: number): { bids: Level[]; asks: Level[] } {
    const byPrice = (a: Level, b: Level): number => Number(a[0]) - Number(b[0]);
    return {
      bids: [...this.bids].sort((a, b) => byPrice(b, a)).slice(0, depth),
      asks: [...this.asks].sort(byPrice).slice(0, depth),
    };
  }
}

function setLevel(side: Map<string, string>, price: string, amount: string): void {
  if (/^0(\.0*)?$/.test(amount)) side.delete(price);
  else side.set(price, amount);
}
