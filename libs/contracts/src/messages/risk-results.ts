// `risk-results` topic (S partitions, partition = the account's shard, key = the account): what the account
// shards answered to each client request of the `requests` topic, written in the same transaction as the
// orders they forward. The gateway reads it to tell the trader: the order id the shard minted for an
// accepted order, or the stable code of a refusal (INSUFFICIENT_FUNDS, NOT_AUTHORIZED, NONCE_USED...).
// A request is named by what the trader signed: a place by (account, nonce) (a signed order is one order,
// ever), a cancel by (account, orderId).
//
// Body: shard, record count (1..MAX_RISK_RECORDS), then per record:
//   tag 1 place    account(20), nonce(8), marketId, status, then accepted: orderId, accountId
//                                                          or rejected: code, message
//   tag 2 cancel   account(20), orderId, status, then rejected: code, message
//   status: 0 accepted, 1 rejected; code: 1..40 chars of [A-Z0-9_]; message: UTF-8, truncated by the
//   encoder to MAX_RESULT_MESSAGE_CHARS.
import { ContractError } from '../errors.js';
import { checkUint, ContractReader, ContractWriter, invalidField, MessageType, readBigUint, readHexBytes, truncateChars, writeBigUint, writeHexBytes } from '../wire.js';

export type RiskResult =
  | {
      readonly kind: 'place';
      readonly account: `0x${string}`;
      readonly nonce: bigint;
      readonly marketId: number;
      /** Minted by the shard; 0 when rejected. */
      readonly orderId: number;
      /** The account's id in the books (shard registry); 0 when rejected. */
      readonly accountId: number;
      /** null = accepted. */
      readonly code: string | null;
      readonly message: string;
    }
  | {
      readonly kind: 'cancel';
      readonly account: `0x${string}`;
      readonly orderId: number;
      readonly code: string | null;
      readonly message: string;
    };

export interface RiskResultBatch {
  /** The shard that answered (the partition it is written to). */
  readonly shard: number;
  readonly results: readonly RiskResult[];
}

export const MAX_RISK_RESULTS = 65_535;
export const MAX_RESULT_MESSAGE_CHARS = 256;
const CODE_RE = /^[A-Z][A-Z0-9_]{0,39}$/;
const TAG_PLACE = 1;
const TAG_CANCEL = 2;
// Smallest record: a tag, an address, an order id, a status byte.
const MIN_RECORD_BYTES = 23;

const shared = new ContractWriter();

function writeOutcome(w: ContractWriter, code: string | null, message: string, i: number): void {
  if (code === null) {
    w.byte(0);
    return;
  }
  if (typeof code !== 'string' || !CODE_RE.test(code)) invalidField(`results[${i}].code`, code, 'null or an UPPER_SNAKE code of 1..40 chars');
  if (typeof message !== 'string') invalidField(`results[${i}].message`, message, 'a string');
  w.byte(1);
  w.string(code);
  w.string(truncateChars(message, MAX_RESULT_MESSAGE_CHARS));
}

export function encodeRiskResultBatch(b: RiskResultBatch): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.RiskResultBatch);
  const list = b.results as unknown;
  if (!Array.isArray(list)) invalidField('results', list, 'an array');
  const results = list as readonly RiskResult[];
  if (results.length === 0) invalidField('results', 0, 'a non-empty list');
  if (results.length > MAX_RISK_RESULTS) throw new ContractError('MESSAGE_TOO_LARGE', `a risk result batch carries at most ${MAX_RISK_RESULTS} results, got ${results.length}`);
  w.uint(checkUint(b.shard, 'shard'));
  w.uint(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    w.ensure(64);
    switch (r.kind) {
      case 'place':
        w.byte(TAG_PLACE);
        writeHexBytes(w, r.account, 20, `results[${i}].account`);
        writeBigUint(w, r.nonce, 8, `results[${i}].nonce`);
        w.uint(checkUint(r.marketId, 'marketId'));
        writeOutcome(w, r.code, r.message, i);
        if (r.code === null) {
          w.uint(checkUint(r.orderId, 'orderId'));
          w.uint(checkUint(r.accountId, 'accountId'));
        }
        break;
      case 'cancel':
        w.byte(TAG_CANCEL);
        writeHexBytes(w, r.account, 20, `results[${i}].account`);
        w.uint(checkUint(r.orderId, 'orderId'));
        writeOutcome(w, r.code, r.message, i);
        break;
      default:
        invalidField(`results[${i}].kind`, (r as { kind: unknown }).kind, "'place' | 'cancel'");
    }
  }
  return w.finish('risk result batch');
}

function readOutcome(r: ContractReader): { code: string | null; message: string } {
  const status = r.byte();
  if (status === 0) return { code: null, message: '' };
  if (status !== 1) r.fail('INVALID_FIELD', `result status ${status}`);
  const code = r.string('code', 40);
  if (!CODE_RE.test(code)) r.fail('INVALID_FIELD', 'code is not an UPPER_SNAKE code');
  return { code, message: r.string('message', MAX_RESULT_MESSAGE_CHARS) };
}

/** Inverse of encodeRiskResultBatch. Throws ContractError on any invalid input, never anything else. */
export function decodeRiskResultBatch(bytes: Uint8Array): RiskResultBatch {
  const r = new ContractReader(bytes, MessageType.RiskResultBatch);
  const shard = r.uint();
  const n = r.uint();
  if (n === 0) r.fail('INVALID_FIELD', 'a batch carries at least one result');
  if (n > MAX_RISK_RESULTS) r.fail('MESSAGE_TOO_LARGE', `result count ${n} exceeds ${MAX_RISK_RESULTS}`);
  if (n * MIN_RECORD_BYTES > r.remaining) r.fail('MALFORMED_MESSAGE', `result count ${n} does not fit in ${r.remaining} bytes`);
  const results: RiskResult[] = [];
  for (let i = 0; i < n; i++) {
    const tag = r.byte();
    if (tag === TAG_PLACE) {
      const account = readHexBytes(r, 20, 'account');
      const nonce = readBigUint(r, 8, 'nonce');
      const marketId = r.uint();
      const { code, message } = readOutcome(r);
      const orderId = code === null ? r.uint() : 0;
      const accountId = code === null ? r.uint() : 0;
      results.push({ kind: 'place', account, nonce, marketId, orderId, accountId, code, message });
    } else if (tag === TAG_CANCEL) {
      const account = readHexBytes(r, 20, 'account');
      const orderId = r.uint();
      const { code, message } = readOutcome(r);
      results.push({ kind: 'cancel', account, orderId, code, message });
    } else {
      r.fail('INVALID_FIELD', `result tag ${tag}`);
    }
  }
  r.end();
  return { shard, results };
}
