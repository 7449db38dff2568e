// Hostile input: random bytes, truncations, bit flips and splices of valid messages. Every decoder must
// either throw ContractError or return a message that re-encodes to exactly the input bytes (so accepted
// bytes are canonical), never throw anything else, and never hang (per-test timeouts below).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CommandBatch } from './commands.js';
import { decodeCommandBatch, encodeCommandBatch } from './commands.js';
import type { DeadLetter } from './dead-letters.js';
import { decodeDeadLetter, encodeDeadLetter } from './dead-letters.js';
import { ContractError } from '../errors.js';
import type { EventBatch } from './events.js';
import { decodeEventBatch, decodeEventBatchEvents, encodeEventBatch } from './events.js';
import type { MarketSnapshot } from './snapshots.js';
import { decodeMarketSnapshot } from './snapshots.js';
import type { SettlementStatus } from './settlement-status.js';
import { decodeSettlementStatus, encodeSettlementStatus } from './settlement-status.js';
import type { SignedOrderBatch } from './signed-orders.js';
import { decodeSignedOrderBatch, encodeSignedOrderBatch } from './signed-orders.js';
import type { AccountEventBatch } from './account-events.js';
import { decodeAccountEventBatch, encodeAccountEventBatch } from './account-events.js';
import type { ChainEventBatch, RiskRequestBatch } from './risk-inputs.js';
import { decodeChainEventBatch, decodeRiskRequestBatch, encodeChainEventBatch, encodeRiskRequestBatch } from './risk-inputs.js';
import {
  accountEventBatchArb,
  chainEventBatchArb,
  commandBatchArb,
  deadLetterArb,
  eventBatchArb,
  riskRequestBatchArb,
  settlementStatusArb,
  signedOrderBatchArb,
  snapshotArb,
} from '../testing/arbitraries.js';
import { legacySnapshotArb, reencodeMarketSnapshot } from '../testing/legacy-snapshots.js';
import { CONTRACT_MAGIC, CONTRACT_VERSION, MessageType, messageVersion, peekMessageType } from '../wire.js';

interface Codec<T> {
  name: string;
  type: MessageType;
  arb: fc.Arbitrary<T>;
  encode(x: T): Uint8Array;
  decode(b: Uint8Array): T;
}

const codecs = [
  { name: 'CommandBatch', type: MessageType.CommandBatch, arb: commandBatchArb, encode: encodeCommandBatch, decode: decodeCommandBatch } satisfies Codec<CommandBatch>,
  { name: 'EventBatch', type: MessageType.EventBatch, arb: eventBatchArb, encode: encodeEventBatch, decode: decodeEventBatch } satisfies Codec<EventBatch>,
  // Hostile bytes may decode as either MarketSnapshot version (version 1 has no partitionMarkets): the
  // canonical check re-encodes in the version the bytes came in (encodeMarketSnapshot writes only version 2).
  { name: 'MarketSnapshot', type: MessageType.MarketSnapshot, arb: snapshotArb, encode: reencodeMarketSnapshot, decode: decodeMarketSnapshot } satisfies Codec<MarketSnapshot>,
  { name: 'MarketSnapshot v1', type: MessageType.MarketSnapshot, arb: legacySnapshotArb, encode: reencodeMarketSnapshot, decode: decodeMarketSnapshot } satisfies Codec<MarketSnapshot>,
  { name: 'DeadLetter', type: MessageType.DeadLetter, arb: deadLetterArb, encode: encodeDeadLetter, decode: decodeDeadLetter } satisfies Codec<DeadLetter>,
  { name: 'SignedOrderBatch', type: MessageType.SignedOrderBatch, arb: signedOrderBatchArb, encode: encodeSignedOrderBatch, decode: decodeSignedOrderBatch } satisfies Codec<SignedOrderBatch>,
  { name: 'SettlementStatus', type: MessageType.SettlementStatus, arb: settlementStatusArb, encode: encodeSettlementStatus, decode: decodeSettlementStatus } satisfies Codec<SettlementStatus>,
  { name: 'RiskRequestBatch', type: MessageType.RiskRequestBatch, arb: riskRequestBatchArb, encode: encodeRiskRequestBatch, decode: decodeRiskRequestBatch } satisfies Codec<RiskRequestBatch>,
  { name: 'AccountEventBatch', type: MessageType.AccountEventBatch, arb: accountEventBatchArb, encode: encodeAccountEventBatch, decode: decodeAccountEventBatch } satisfies Codec<AccountEventBatch>,
  { name: 'ChainEventBatch', type: MessageType.ChainEventBatch, arb: chainEventBatchArb, encode: encodeChainEventBatch, decode: decodeChainEventBatch } satisfies Codec<ChainEventBatch>,
] as Codec<unknown>[];

/** ContractError, or a decode whose re-encoding is byte-identical. Returns whether it decoded. */
function hostile<T>(c: Codec<T>, bytes: Uint8Array): boolean {
  let decoded: T;
  try {
    decoded = c.decode(bytes);
  } catch (e) {
    if (e instanceof ContractError) return false;
    throw new Error(`${c.name} decoder threw a non-contract error on ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
  }
  // An older version's frame (still readable) is canonical in its own version: the encoder writes the current
  // one, so the re-encoding is the same bytes under the current version number (the layouts of a message type's
  // versions differ only in what later versions add, e.g. new record tags).
  const reencoded = c.encode(decoded);
  const expected = Uint8Array.from(bytes);
  if (expected.length > 2 && reencoded.length > 2 && expected[0] === CONTRACT_MAGIC && expected[1] === c.type && expected[2]! < reencoded[2]!) expected[2] = reencoded[2]!;
  assert.deepEqual(reencoded, expected, `${c.name} accepted non-canonical bytes ${Buffer.from(bytes).toString('hex')}`);
  return true;
}

const TIMEOUT = { timeout: 60_000 };

for (const c of codecs) {
  describe(`${c.name} decoder under hostile input`, () => {
    it('random bytes, with and without a valid header', TIMEOUT, () => {
      // Any version the decoder reads (older layouts included).
      const versionArb = fc.integer({ min: CONTRACT_VERSION, max: messageVersion(c.type) });
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), versionArb, (tail, withHeader, version) => {
          hostile(c, withHeader ? Uint8Array.from([CONTRACT_MAGIC, c.type, version, ...tail]) : tail);
        }),
        { numRuns: 2000 },
      );
    });

    it('every truncation of a valid message is refused', TIMEOUT, () => {
      fc.assert(
        fc.property(c.arb, (x) => {
          const bytes = c.encode(x);
          for (let n = 0; n < bytes.length; n++) {
            assert.throws(() => c.decode(bytes.subarray(0, n)), (e: unknown) => e instanceof ContractError, `${c.name} prefix ${n}/${bytes.length}`);
          }
          assert.throws(() => c.decode(Uint8Array.from([...bytes, 0])), (e: unknown) => e instanceof ContractError && e.code === 'MALFORMED_MESSAGE');
        }),
        { numRuns: 100 },
      );
    });

    it('bit flips and byte overwrites of valid messages', TIMEOUT, () => {
      let accepted = 0;
      fc.assert(
        fc.property(c.arb, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 }), fc.boolean(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), (x, edits) => {
          const bytes = Uint8Array.from(c.encode(x));
          for (const [pos, bit, overwrite, value] of edits) {
            const i = pos % bytes.length;
            bytes[i] = overwrite ? value : bytes[i]! ^ (1 << bit);
          }
          if (hostile(c, bytes)) accepted++;
        }),
        { numRuns: 1500 },
      );
      // Many edits hit a value byte and still decode: the canonical re-encoding check really runs.
      assert.ok(accepted > 0, 'no mutated message decoded');
    });

    it('splices of two valid messages', TIMEOUT, () => {
      fc.assert(
        fc.property(c.arb, c.arb, fc.nat(), fc.nat(), (a, b, i, j) => {
          const x = c.encode(a);
          const y = c.encode(b);
          hostile(c, Uint8Array.from([...x.subarray(0, i % (x.length + 1)), ...y.subarray(j % (y.length + 1))]));
        }),
        { numRuns: 500 },
      );
    });

    it('checks magic, message type and version in that order', () => {
      const valid = c.encode(fc.sample(c.arb, { numRuns: 1, seed: 42 })[0]);
      const with3 = (i: number, v: number) => {
        const b = Uint8Array.from(valid);
        b[i] = v;
        return b;
      };
      const code = (b: Uint8Array) => {
        try {
          c.decode(b);
          return 'ok';
        } catch (e) {
          return e instanceof ContractError ? e.code : 'other';
        }
      };
      assert.equal(code(valid), 'ok');
      assert.equal(code(with3(0, 0x51)), 'MALFORMED_MESSAGE');
      for (const other of [0, 1, 2, 3, 4, 5, 6, 7, 255].filter((t) => t !== c.type)) assert.equal(code(with3(1, other)), 'WRONG_MESSAGE_TYPE');
      for (const version of [0, messageVersion(c.type) + 1, 255]) assert.equal(code(with3(2, version)), 'UNSUPPORTED_VERSION');
      assert.equal(code(new Uint8Array(0)), 'MALFORMED_MESSAGE');
      assert.equal(code(valid.subarray(0, 2)), 'MALFORMED_MESSAGE');
      assert.equal(peekMessageType(valid), c.type);
      for (const notBytes of [null, undefined, 'P\u0001\u0001', [0x50, 1, 1], 42]) {
        assert.equal(code(notBytes as unknown as Uint8Array), 'MALFORMED_MESSAGE');
      }
    });
  });
}

describe('decodeEventBatchEvents under hostile event bytes', () => {
  it('throws only ContractError', TIMEOUT, () => {
    fc.assert(
      fc.property(eventBatchArb, (b) => {
        try {
          decodeEventBatchEvents(b);
        } catch (e) {
          assert.ok(e instanceof ContractError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('peekMessageType', () => {
  it('names the type of any valid frame and refuses others with a ContractError', () => {
    assert.throws(() => peekMessageType(Uint8Array.from([0x50, 99, 1])), (e: unknown) => e instanceof ContractError && e.code === 'WRONG_MESSAGE_TYPE');
    assert.throws(() => peekMessageType(Uint8Array.from([0x50, 1, 2])), (e: unknown) => e instanceof ContractError && e.code === 'UNSUPPORTED_VERSION');
    assert.throws(() => peekMessageType(Uint8Array.from([0x51, 1, 1])), (e: unknown) => e instanceof ContractError && e.code === 'MALFORMED_MESSAGE');
    assert.equal(peekMessageType(Uint8Array.from([0x50, 4, 1])), MessageType.DeadLetter);
    // Per-type versions: MarketSnapshot is written as 2 and still read as 1; 3 is unknown.
    for (const v of [1, 2]) assert.equal(peekMessageType(Uint8Array.from([0x50, 3, v])), MessageType.MarketSnapshot);
    assert.throws(() => peekMessageType(Uint8Array.from([0x50, 3, 3])), (e: unknown) => e instanceof ContractError && e.code === 'UNSUPPORTED_VERSION');
  });
});
