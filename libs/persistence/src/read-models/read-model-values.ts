import type { Prisma } from '../generated/client.js';

/** A BIGINT column (offsets, sequences, engine ms, ticks, lots: all below 2^53) as a number. */
export const intOf = (n: bigint | number): number => Number(n);

/** A NUMERIC(39, 0) column (token base units) as a bigint. */
export const bigOfDecimal = (d: Prisma.Decimal): bigint => BigInt(d.toFixed(0));
