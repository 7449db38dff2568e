// Minimal deterministic binary writer / reader: unsigned LEB128 varints over non-negative safe integers,
// raw bytes and length-prefixed UTF-8 strings. Same value -> same bytes, on every platform.
import { OrderBookError } from './errors.js';
import type { OrderBookErrorCode } from './errors.js';

const TEXT_ENCODER = new TextEncoder();
const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Makes room for n more bytes (callers on hot paths check capacity inline first). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(x: number): void {
    if (this.pos + 1 > this.buf.length) this.ensure(1);
    this.buf[this.pos++] = x & 0xff;
  }

  /** Unsigned varint of a non-negative safe integer (at most 8 bytes). */
  uint(x0: number): void {
    if (this.pos + 8 > this.buf.length) this.ensure(8);
    const buf = this.buf;
    let p = this.pos;
    let x = x0;
    while (x >= 0x80000000) {
      buf[p++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    while (x >= 0x80) {
      buf[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    buf[p++] = x;
    this.pos = p;
  }

  bytes(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    const b = TEXT_ENCODER.encode(s);
    this.uint(b.length);
    this.bytes(b);
  }

  /** Copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ByteReader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    private readonly errorCode: OrderBookErrorCode,
  ) {}

  fail(message: string): never {
    throw new OrderBookError(this.errorCode, `${message} (at byte ${this.pos})`);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  byte(): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end of input');
    return this.buf[this.pos++]!;
  }

  uint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        // Canonical encoding only: no redundant trailing zero groups, value within safe range.
        if (i > 0 && b === 0) this.fail('non-canonical varint');
        if (!Number.isSafeInteger(result)) this.fail('varint out of safe integer range');
        return result;
      }
      scale *= 128;
    }
    return this.fail('varint too long');
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) this.fail('unexpected end of input');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.uint();
    try {
      return TEXT_DECODER.decode(this.bytes(n));
    } catch (e) {
      if (e instanceof OrderBookError) throw e;
      return this.fail('invalid UTF-8');
    }
  }
}
