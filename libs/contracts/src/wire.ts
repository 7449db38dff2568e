// The binary frame shared by every Parallax topic contract, and the one-pass writer / reader behind it.
//
// Frame: magic 0x50 ('P'), message type (1 byte), version (1 byte), then the message's fields. The version is
// per message type: CONTRACT_VERSION (1) unless the type's layout changed since (MESSAGE_VERSIONS), in which
// case its encoder writes the newest version and its decoder still reads every older one (ContractReader.version).
// Integers are unsigned LEB128 varints of non-negative safe integers; the reader accepts only the canonical
// (shortest) form, so every accepted message re-encodes to exactly the same bytes (determinism both ways).
import { ByteWriter } from '@parallax/order-book';
import { ContractError } from './errors.js';
import type { ContractErrorCode } from './errors.js';

export const CONTRACT_MAGIC = 0x50;
export const CONTRACT_VERSION = 1;
/** No contract message (encoded) may exceed 1 MiB: decoders refuse larger input before reading it. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const MessageType = {
  CommandBatch: 1,
  EventBatch: 2,
  MarketSnapshot: 3,
  DeadLetter: 4,
  SignedOrderBatch: 5,
  SettlementStatus: 6,
  RiskRequestBatch: 7,
  AccountEventBatch: 8,
  ChainEventBatch: 9,
  /** 13: numbered apart from the risk inputs' neighbours so parallel additions do not collide. */
  RiskResultBatch: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * Message types whose layout changed after CONTRACT_VERSION, with the version their encoder writes now. The
 * decoder of such a type reads versions CONTRACT_VERSION..that one, so records written by an older release
 * (e.g. a compacted topic's) stay readable. A layout change bumps its type's entry, never silently.
 */
export const MESSAGE_VERSIONS: Readonly<Partial<Record<MessageType, number>>> = {
  /** 2: partitionMarkets appended (see messages/snapshots.ts). */
  [MessageType.MarketSnapshot]: 2,
  /** 2: chain event tags 11 (nonceFloorRaised), 12 (orderCancelled), 13 (settlementSkipped) (see messages/risk-inputs.ts). */
  [MessageType.ChainEventBatch]: 2,
};

/** The version byte an encoder of `type` writes (the newest its decoder reads). */
export function messageVersion(type: MessageType): number {
  return MESSAGE_VERSIONS[type] ?? CONTRACT_VERSION;
}

const MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: 'CommandBatch',
  2: 'EventBatch',
  3: 'MarketSnapshot',
  4: 'DeadLetter',
  5: 'SignedOrderBatch',
  6: 'SettlementStatus',
  7: 'RiskRequestBatch',
  8: 'AccountEventBatch',
  9: 'ChainEventBatch',
  13: 'RiskResultBatch',
};

// fatal: invalid UTF-8 is refused; ignoreBOM: a leading U+FEFF is kept, so decode/encode is the identity.
const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function invalidField(field: string, value: unknown, expected: string): never {
  throw new ContractError('INVALID_FIELD', `${field} must be ${expected}, got ${describe(value)}`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return typeof v;
}

/** Throws INVALID_FIELD unless x is a non-negative safe integer (the only integers the wire carries). */
export function checkUint(x: number, field: string): number {
  if (!Number.isSafeInteger(x) || x < 0) invalidField(field, x, 'a non-negative safe integer');
  return x;
}

/**
 * Growable byte buffer reused across messages: the order book's deterministic varint writer (the same
 * encoding its event codec uses) plus the contract frame header, length-prefixed blobs and the size limit.
 */
export class ContractWriter extends ByteWriter {
  constructor(initialCapacity = 64 * 1024) {
    super(initialCapacity);
  }

  reset(): void {
    this.pos = 0;
    // Do not pin a huge buffer forever because of one big message.
    if (this.buf.length > 4 * MAX_MESSAGE_BYTES) this.buf = new Uint8Array(64 * 1024);
  }

  header(type: MessageType): void {
    this.ensure(3);
    this.buf[this.pos++] = CONTRACT_MAGIC;
    this.buf[this.pos++] = type;
    this.buf[this.pos++] = messageVersion(type);
  }

  raw(b: Uint8Array): void {
    this.bytes(b);
  }

  /** Length-prefixed bytes. */
  blob(b: Uint8Array): void {
    this.uint(b.length);
    this.bytes(b);
  }

  /** Copy of the bytes written since reset; throws MESSAGE_TOO_LARGE past MAX_MESSAGE_BYTES. */
  override finish(what = 'message'): Uint8Array {
    if (this.pos > MAX_MESSAGE_BYTES) {
      throw new ContractError('MESSAGE_TOO_LARGE', `${what} encodes to ${this.pos} bytes, more than ${MAX_MESSAGE_BYTES}`);
    }
    return super.finish();
  }
}

/** Bounds-checked reader over one message; every failure is a ContractError. */
export class ContractReader {
  pos = 0;
  /** The frame's version: CONTRACT_VERSION..messageVersion(type); a decoder reads the layout it names. */
  readonly version: number;
  private readonly buf: Uint8Array;

  /** Validates the frame header (size, magic, type, version) and positions after it. */
  constructor(bytes: unknown, expected: MessageType) {
    if (!(bytes instanceof Uint8Array)) throw new ContractError('MALFORMED_MESSAGE', `message value must be bytes, got ${describe(bytes)}`);
    const name = MESSAGE_TYPE_NAMES[expected] ?? String(expected);
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new ContractError('MESSAGE_TOO_LARGE', `${name} of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
    }
    if (bytes.length < 3) throw new ContractError('MALFORMED_MESSAGE', `${name}: ${bytes.length}-byte message is shorter than the header`);
    if (bytes[0] !== CONTRACT_MAGIC) throw new ContractError('MALFORMED_MESSAGE', `${name}: bad magic byte 0x${bytes[0]!.toString(16)}`);
    const type = bytes[1]!;
    if (type !== expected) {
      const got = MESSAGE_TYPE_NAMES[type] ?? `unknown type ${type}`;
      throw new ContractError('WRONG_MESSAGE_TYPE', `expected ${name}, got ${got}`);
    }
    const version = bytes[2]!;
    const newest = messageVersion(expected);
    if (version < CONTRACT_VERSION || version > newest) {
      const reads = newest === CONTRACT_VERSION ? `version ${newest}` : `versions ${CONTRACT_VERSION}..${newest}`;
      throw new ContractError('UNSUPPORTED_VERSION', `${name} version ${version} (this build reads ${reads})`);
    }
    this.version = version;
    this.buf = bytes;
    this.pos = 3;
  }

  fail(code: ContractErrorCode, message: string): never {
    throw new ContractError(code, `${message} (at byte ${this.pos})`);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  byte(): number {
    if (this.pos >= this.buf.length) this.fail('MALFORMED_MESSAGE', 'unexpected end of message');
    return this.buf[this.pos++]!;
  }

  uint(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= buf.length) this.fail('MALFORMED_MESSAGE', 'unexpected end of message');
    let b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    let result = b & 0x7f;
    let scale = 128;
    for (let i = 1; i < 8; i++) {
      if (p >= buf.length) {
        this.pos = p;
        this.fail('MALFORMED_MESSAGE', 'unexpected end of message in varint');
      }
      b = buf[p++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = p;
        if (b === 0) this.fail('MALFORMED_MESSAGE', 'non-canonical varint');
        if (result > Number.MAX_SAFE_INTEGER) this.fail('MALFORMED_MESSAGE', 'varint beyond the safe integer range');
        return result;
      }
      scale *= 128;
    }
    this.pos = p;
    return this.fail('MALFORMED_MESSAGE', 'varint longer than 8 bytes');
  }

  /** Copy of the next n bytes (detached from the input buffer). */
  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) this.fail('MALFORMED_MESSAGE', `length ${n} runs past the end of the message`);
    // Always a plain Uint8Array copy (Buffer#slice would return a view into the consumer's buffer).
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Length-prefixed bytes of at most maxBytes. */
  blob(field: string, maxBytes: number): Uint8Array {
    const n = this.uint();
    if (n > maxBytes) this.fail('INVALID_FIELD', `${field} of ${n} bytes exceeds ${maxBytes}`);
    return this.bytes(n);
  }

  /** Length-prefixed UTF-8 string of at most maxChars UTF-16 code units. */
  string(field: string, maxChars: number): string {
    const n = this.uint();
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    if (n > maxChars * 3) this.fail('INVALID_FIELD', `${field} of ${n} bytes is too long`);
    if (n > this.buf.length - this.pos) this.fail('MALFORMED_MESSAGE', `length ${n} runs past the end of the message`);
    let s: string;
    try {
      s = TEXT_DECODER.decode(this.buf.subarray(this.pos, this.pos + n));
    } catch {
      return this.fail('MALFORMED_MESSAGE', `${field} is not valid UTF-8`);
    }
    this.pos += n;
    if (s.length > maxChars) this.fail('INVALID_FIELD', `${field} is longer than ${maxChars} characters`);
    return s;
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.buf.length) this.fail('MALFORMED_MESSAGE', `${this.buf.length - this.pos} trailing bytes`);
  }
}

/** The message type of a contract frame (validates size, magic and version; not the body). */
export function peekMessageType(bytes: Uint8Array): MessageType {
  if (!(bytes instanceof Uint8Array)) throw new ContractError('MALFORMED_MESSAGE', 'message value must be bytes');
  if (bytes.length > MAX_MESSAGE_BYTES) throw new ContractError('MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  if (bytes.length < 3 || bytes[0] !== CONTRACT_MAGIC) throw new ContractError('MALFORMED_MESSAGE', 'not a Parallax contract message');
  const type = bytes[1]!;
  if (MESSAGE_TYPE_NAMES[type] === undefined) throw new ContractError('WRONG_MESSAGE_TYPE', `unknown message type ${type}`);
  if (bytes[2]! < CONTRACT_VERSION || bytes[2]! > messageVersion(type as MessageType)) {
    throw new ContractError('UNSUPPORTED_VERSION', `version ${bytes[2]!}`);
  }
  return type as MessageType;
}

// State hashes travel as their 8 raw bytes rather than 16 hex characters.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const STATE_HASH_RE = /^[0-9a-f]{16}$/;

export function writeStateHash(w: ContractWriter, hash: string, field: string): void {
  if (typeof hash !== 'string' || !STATE_HASH_RE.test(hash)) invalidField(field, hash, '16 lowercase hex characters');
  w.ensure(8);
  for (let i = 0; i < 16; i += 2) w.buf[w.pos++] = parseInt(hash.slice(i, i + 2), 16);
}

export function readStateHash(r: ContractReader): string {
  if (r.remaining < 8) r.fail('MALFORMED_MESSAGE', 'unexpected end of message in state hash');
  let s = '';
  for (let i = 0; i < 8; i++) s += HEX[r.byte()]!;
  return s;
}

/** Cuts s to at most n UTF-16 code units without splitting a surrogate pair. */
export function truncateChars(s: string, n: number): string {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

// Unsigned bigints (uint64 / uint128 amounts of the settlement contract) travel as a length byte and that
// many big-endian bytes without leading zeros (0n is the length byte 0 alone): canonical, and a typical
// amount takes far fewer bytes than its fixed width.

/** Writes a uint of at most maxBytes bytes; throws INVALID_FIELD for anything else (numbers included). */
export function writeBigUint(w: ContractWriter, x: bigint, maxBytes: number, field: string): void {
  if (typeof x !== 'bigint' || x < 0n || x >> BigInt(8 * maxBytes) !== 0n) invalidField(field, x, `a uint${8 * maxBytes} bigint`);
  let n = 0;
  for (let v = x; v !== 0n; v >>= 8n) n++;
  w.ensure(1 + n);
  w.buf[w.pos++] = n;
  for (let i = n - 1; i >= 0; i--) w.buf[w.pos++] = Number((x >> BigInt(8 * i)) & 0xffn);
}

export function readBigUint(r: ContractReader, maxBytes: number, field: string): bigint {
  const n = r.byte();
  if (n > maxBytes) r.fail('INVALID_FIELD', `${field} of ${n} bytes exceeds uint${8 * maxBytes}`);
  if (n > r.remaining) r.fail('MALFORMED_MESSAGE', `${field} runs past the end of the message`);
  if (n === 0) return 0n;
  const first = r.byte();
  if (first === 0) r.fail('MALFORMED_MESSAGE', `non-canonical ${field} (leading zero byte)`);
  let x = BigInt(first);
  for (let i = 1; i < n; i++) x = (x << 8n) | BigInt(r.byte());
  return x;
}

const HEX_RE = new Map<number, RegExp>();

/** Writes a `0x` hex string of exactly n bytes (either case) as its n raw bytes. */
export function writeHexBytes(w: ContractWriter, hex: string, n: number, field: string): void {
  let re = HEX_RE.get(n);
  if (re === undefined) HEX_RE.set(n, (re = new RegExp(`^0x[0-9a-fA-F]{${2 * n}}$`)));
  if (typeof hex !== 'string' || !re.test(hex)) invalidField(field, hex, `0x and ${2 * n} hex digits (${n} bytes)`);
  w.ensure(n);
  for (let i = 2; i < 2 + 2 * n; i += 2) w.buf[w.pos++] = parseInt(hex.slice(i, i + 2), 16);
}

/** n raw bytes as a lower-case `0x` hex string. */
export function readHexBytes(r: ContractReader, n: number, field: string): `0x${string}` {
  if (r.remaining < n) r.fail('MALFORMED_MESSAGE', `unexpected end of message in ${field}`);
  let s = '0x';
  for (let i = 0; i < n; i++) s += HEX[r.byte()]!;
  return s as `0x${string}`;
}
