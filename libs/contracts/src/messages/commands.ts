// `orders` topic: batches of order-book commands of ONE market (key = marketKey, partition = partitionForMarket).
//
// Body: marketId, sentAtMs, command count, then per command a tag byte and its fields (varints):
//   tag  bits 0-2: CommandType (1 place, 2 cancel, 3 cancelAll, 4 amend, 5 expire)
//        bit 3:    ts is BELOW the previous command's ts (ts is sent as |delta| to the previous command,
//                  the first command's delta is from 0; one bit keeps any ts sequence representable)
//        bit 4:    place only: an expiresAt varint follows (set iff expiresAt != 0)
//        bits 5-7: zero
//   place      tag, |dTs|, orderId, accountId, flags, price, size[, expiresAt]
//              flags bit 0 side, bit 1 orderType, bits 2-3 tif, bit 4 postOnly, bits 5-7 stp
//   cancel     tag, |dTs|, orderId, accountId
//   cancelAll  tag, |dTs|, accountId
//   amend      tag, |dTs|, orderId, accountId, price, size
//   expire     tag, |dTs|
// The contract checks shape and ranges only (non-negative safe integers, enum ranges); whether a command
// makes sense (size > 0, order exists, ...) is the book's decision, answered with a `rejected` event.
import type { AmendOrder, CancelAll, CancelOrder, Command, ExpireOrders, PlaceOrder } from '@parallax/order-book';
import { CommandType } from '@parallax/order-book';
import type { OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import { checkUint, ContractReader, ContractWriter, invalidField, MessageType } from '../wire.js';

export interface CommandBatch {
  readonly marketId: number;
  /** Producer wall clock (ms since the epoch), for end-to-end latency metrics only; never used by matching. */
  readonly sentAtMs: number;
  /** Commands of this market in order, each with its own logical ts. At least 1, at most MAX_COMMANDS_PER_BATCH. */
  readonly commands: readonly Command[];
}

export const MAX_COMMANDS_PER_BATCH = 65_535;

const TAG_TYPE_MASK = 0x07;
const TAG_TS_BACK = 0x08;
const TAG_EXPIRY = 0x10;
const TAG_RESERVED = 0xe0;
const MAX = Number.MAX_SAFE_INTEGER;

const shared = new ContractWriter();

/** Deterministic bytes of a command batch. Throws ContractError (INVALID_FIELD, MESSAGE_TOO_LARGE). */
export function encodeCommandBatch(batch: CommandBatch): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.CommandBatch);
  const cmds = batch.commands;
  if (!Array.isArray(cmds)) invalidField('commands', cmds, 'an array');
  const n = cmds.length;
  if (n > MAX_COMMANDS_PER_BATCH) {
    throw new ContractError('MESSAGE_TOO_LARGE', `a command batch carries at most ${MAX_COMMANDS_PER_BATCH} commands, got ${n}`);
  }
  if (n === 0) invalidField('commands', n, 'a non-empty list (got 0 commands)');
  w.uint(checkUint(batch.marketId, 'marketId'));
  w.uint(checkUint(batch.sentAtMs, 'sentAtMs'));
  w.uint(n);
  let prevTs = 0;
  for (let i = 0; i < n; i++) {
    const c = cmds[i] as Command;
    const ts = c.ts;
    checkUint(ts, 'ts');
    let tag: number;
    let dTs: number;
    if (ts >= prevTs) {
      tag = 0;
      dTs = ts - prevTs;
    } else {
      tag = TAG_TS_BACK;
      dTs = prevTs - ts;
    }
    prevTs = ts;
    // Worst case of one command: tag + flags + 7 varints of 8 bytes.
    w.ensure(64);
    switch (c.type) {
      case 'place': {
        const expiresAt = checkUint(c.expiresAt, 'expiresAt');
        w.byte(CommandType.Place | tag | (expiresAt !== 0 ? TAG_EXPIRY : 0));
        w.uint(dTs);
        w.uint(checkUint(c.orderId, 'orderId'));
        w.uint(checkUint(c.accountId, 'accountId'));
        w.byte(placeFlags(c));
        w.uint(checkUint(c.price, 'price'));
        w.uint(checkUint(c.size, 'size'));
        if (expiresAt !== 0) w.uint(expiresAt);
        break;
      }
      case 'cancel':
        w.byte(CommandType.Cancel | tag);
        w.uint(dTs);
        w.uint(checkUint(c.orderId, 'orderId'));
        w.uint(checkUint(c.accountId, 'accountId'));
        break;
      case 'cancelAll':
        w.byte(CommandType.CancelAll | tag);
        w.uint(dTs);
        w.uint(checkUint(c.accountId, 'accountId'));
        break;
      case 'amend':
        w.byte(CommandType.Amend | tag);
        w.uint(dTs);
        w.uint(checkUint(c.orderId, 'orderId'));
        w.uint(checkUint(c.accountId, 'accountId'));
        w.uint(checkUint(c.price, 'price'));
        w.uint(checkUint(c.size, 'size'));
        break;
      case 'expire':
        w.byte(CommandType.Expire | tag);
        w.uint(dTs);
        break;
      default:
        invalidField(`commands[${i}].type`, (c as { type: unknown }).type, "'place' | 'cancel' | 'cancelAll' | 'amend' | 'expire'");
    }
  }
  return w.finish('command batch');
}

function placeFlags(c: PlaceOrder): number {
  // Widened to number: JS callers (and decoded JSON) can pass anything.
  const side: number = c.side;
  const orderType: number = c.orderType;
  const tif: number = c.tif;
  const stp: number = c.stp;
  if (side !== 0 && side !== 1) invalidField('side', side, 'Side (0 | 1)');
  if (orderType !== 0 && orderType !== 1) invalidField('orderType', orderType, 'OrderType (0 | 1)');
  if (!(tif >= 0 && tif <= 3 && (tif | 0) === tif)) invalidField('tif', tif, 'TimeInForce (0..3)');
  if (!(stp >= 0 && stp <= 4 && (stp | 0) === stp)) invalidField('stp', stp, 'StpMode (0..4)');
  if (typeof c.postOnly !== 'boolean') invalidField('postOnly', c.postOnly, 'a boolean');
  return side | (orderType << 1) | (tif << 2) | (c.postOnly ? 0x10 : 0) | (stp << 5);
}

/** Inverse of encodeCommandBatch. Throws ContractError on any invalid input, never anything else. */
export function decodeCommandBatch(bytes: Uint8Array): CommandBatch {
  const r = new ContractReader(bytes, MessageType.CommandBatch);
  const marketId = r.uint();
  const sentAtMs = r.uint();
  const n = r.uint();
  if (n > MAX_COMMANDS_PER_BATCH) r.fail('MESSAGE_TOO_LARGE', `command count ${n} exceeds ${MAX_COMMANDS_PER_BATCH}`);
  if (n === 0) r.fail('INVALID_FIELD', 'a command batch carries at least one command');
  // Every command takes at least 2 bytes: refuse absurd counts before looping.
  if (n * 2 > r.remaining) r.fail('MALFORMED_MESSAGE', `command count ${n} does not fit in ${r.remaining} bytes`);
  const commands: Command[] = [];
  let prevTs = 0;
  for (let i = 0; i < n; i++) {
    const tag = r.byte();
    if ((tag & TAG_RESERVED) !== 0) r.fail('MALFORMED_MESSAGE', `reserved bits set in command tag 0x${tag.toString(16)}`);
    const d = r.uint();
    let ts: number;
    if ((tag & TAG_TS_BACK) === 0) {
      ts = prevTs + d;
      if (ts > MAX) r.fail('INVALID_FIELD', 'ts beyond the safe integer range');
    } else {
      if (d === 0) r.fail('MALFORMED_MESSAGE', 'non-canonical zero ts step back');
      ts = prevTs - d;
      if (ts < 0) r.fail('INVALID_FIELD', 'negative ts');
    }
    prevTs = ts;
    const type = tag & TAG_TYPE_MASK;
    if ((tag & TAG_EXPIRY) !== 0 && type !== CommandType.Place) r.fail('MALFORMED_MESSAGE', 'expiry bit on a non-place command');
    switch (type) {
      case CommandType.Place: {
        const orderId = r.uint();
        const accountId = r.uint();
        const flags = r.byte();
        const stp = flags >>> 5;
        if (stp > 4) r.fail('INVALID_FIELD', `stp ${stp} is not a StpMode`);
        const price = r.uint();
        const size = r.uint();
        let expiresAt = 0;
        if ((tag & TAG_EXPIRY) !== 0) {
          expiresAt = r.uint();
          if (expiresAt === 0) r.fail('MALFORMED_MESSAGE', 'non-canonical zero expiresAt');
        }
        const cmd: PlaceOrder = {
          type: 'place',
          ts,
          orderId,
          accountId,
          side: (flags & 1) as Side,
          orderType: ((flags >>> 1) & 1) as OrderType,
          price,
          size,
          tif: ((flags >>> 2) & 3) as TimeInForce,
          expiresAt,
          postOnly: (flags & 0x10) !== 0,
          stp: stp as StpMode,
        };
        commands.push(cmd);
        break;
      }
      case CommandType.Cancel: {
        const orderId = r.uint();
        const cmd: CancelOrder = { type: 'cancel', ts, orderId, accountId: r.uint() };
        commands.push(cmd);
        break;
      }
      case CommandType.CancelAll: {
        const cmd: CancelAll = { type: 'cancelAll', ts, accountId: r.uint() };
        commands.push(cmd);
        break;
      }
      case CommandType.Amend: {
        const orderId = r.uint();
        const accountId = r.uint();
        const price = r.uint();
        const cmd: AmendOrder = { type: 'amend', ts, orderId, accountId, price, size: r.uint() };
        commands.push(cmd);
        break;
      }
      case CommandType.Expire: {
        const cmd: ExpireOrders = { type: 'expire', ts };
        commands.push(cmd);
        break;
      }
      default:
        r.fail('INVALID_FIELD', `unknown command type ${type} in command ${i}`);
    }
  }
  r.end();
  return { marketId, sentAtMs, commands };
}
