import { Prisma } from './generated/client.js';

/** Prisma's P2002: a unique constraint (or primary key) rejected the write, e.g. a replayed event. */
export function isUniqueConstraintViolation(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

/** Prisma's P2003: a foreign key rejected the write (the referenced row does not exist). */
export function isForeignKeyViolation(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003';
}
