// Micro-benchmark of the orders-topic codec: encode + decode of command batches with realistic field
// magnitudes (ms timestamps, 6-digit order ids, ~1000 accounts, prices around 100,000 ticks).
//   node libs/contracts/dist/bench/codec.bench.js [--batch 100] [--commands 2000000]
import type { Command } from '@parallax/order-book';
import { OrderType, Prng, Side, StpMode, TimeInForce } from '@parallax/order-book';
import type { CommandBatch } from '../messages/commands.js';
import { decodeCommandBatch, encodeCommandBatch } from '../messages/commands.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const batchSize = arg('--batch', 100);
const total = arg('--commands', 2_000_000);

// Deterministic input, no Math.random.
const rng = new Prng(0x9e3779b9);
const rnd = (n: number): number => rng.nextInt(n);

function makeBatches(): CommandBatch[] {
  const out: CommandBatch[] = [];
  let ts = 1_763_900_000_000;
  let id = 100_000;
  for (let made = 0; made < total; made += batchSize) {
    const commands: Command[] = [];
    for (let i = 0; i < batchSize; i++) {
      ts += rnd(3);
      const k = rnd(10);
      const accountId = 1 + rnd(1000);
      if (k < 6) {
        commands.push({ type: 'place', ts, orderId: ++id, accountId, side: rnd(2) as Side, orderType: k === 0 ? OrderType.Market : OrderType.Limit, price: 100_000 + rnd(200) - 100, size: 1 + rnd(500), tif: k === 0 ? TimeInForce.IOC : TimeInForce.GTC, expiresAt: 0, postOnly: k === 5, stp: StpMode.CancelNewest });
      } else if (k < 9) {
        commands.push({ type: 'cancel', ts, orderId: id - rnd(500), accountId });
      } else {
        commands.push({ type: 'amend', ts, orderId: id - rnd(500), accountId, price: 100_000 + rnd(200) - 100, size: 1 + rnd(200) });
      }
    }
    out.push({ marketId: 1 + rnd(64), sentAtMs: ts, commands });
  }
  return out;
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const batches = makeBatches();
const commands = batches.length * batchSize;
let encoded: Uint8Array[] = [];
let bytes = 0;
let checksum = 0;
// Warm-up pass, then the best of three timed passes of each half (the machine is shared and noisy).
const encodeAll = (): void => {
  encoded = batches.map((b) => encodeCommandBatch(b));
};
const decodeAll = (): void => {
  for (const e of encoded) checksum += decodeCommandBatch(e).commands.length;
};
encodeAll();
decodeAll();
let enc = Infinity;
let dec = Infinity;
for (let i = 0; i < 3; i++) {
  enc = Math.min(enc, time(encodeAll));
  dec = Math.min(dec, time(decodeAll));
}
for (const e of encoded) bytes += e.length;
const m = (x: number): string => `${(x / 1e6).toFixed(2)}M`;
console.log(
  JSON.stringify(
    {
      batchSize,
      commands,
      bytesPerCommand: +(bytes / commands).toFixed(2),
      encodeCommandsPerSec: Math.round(commands / enc),
      decodeCommandsPerSec: Math.round(commands / dec),
      roundTripCommandsPerSec: Math.round(commands / (enc + dec)),
      checksum,
    },
    null,
    2,
  ),
);
console.log(`encode ${m(commands / enc)}/s, decode ${m(commands / dec)}/s, encode+decode ${m(commands / (enc + dec))} commands/s, ${(bytes / commands).toFixed(2)} B/command`);
