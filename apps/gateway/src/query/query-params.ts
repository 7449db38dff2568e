// Query parameters of the GET endpoints, validated strictly: each endpoint names the parameters it takes, and
// anything else (an unknown name, a repeated name, a value off its pattern or out of its range) is
// INVALID_FIELD naming the parameter. Nest's own pipes are not used for this: the global ValidationPipe's
// transform turns "abc" into NaN for a number-typed parameter, and DefaultValuePipe turns NaN into the
// default, so `?limit=abc` used to answer as if no limit had been sent.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiError } from '../errors/api.errors.js';

/** One parameter: how its raw string is read (throws ApiError naming it) and its value when absent. */
export interface QueryParam<T> {
  readonly parse: (raw: string, field: string) => T;
  readonly fallback: T;
}

export type QuerySpec = Readonly<Record<string, QueryParam<unknown>>>;
export type QueryValues<S extends QuerySpec> = { readonly [K in keyof S]: S[K] extends QueryParam<infer T> ? T : never };

/** An integer in min..max (decimal digits only: no sign, exponent, fraction or hex). */
export function intParam(min: number, max: number, fallback: number): QueryParam<number>;
export function intParam(min: number, max: number, fallback: undefined): QueryParam<number | undefined>;
export function intParam(min: number, max: number, fallback: number | undefined): QueryParam<number | undefined> {
  return {
    fallback,
    parse(raw, field) {
      const n = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) throw new ApiError('INVALID_FIELD', `${field} must be an integer in ${min}..${max}`);
      return n;
    },
  };
}

/** One of a fixed set of strings. */
export function enumParam<const T extends string>(values: readonly T[], fallback: T): QueryParam<T> {
  return {
    fallback,
    parse(raw, field) {
      if (!(values as readonly string[]).includes(raw)) throw new ApiError('INVALID_FIELD', `${field} must be one of ${values.join(', ')}`);
      return raw as T;
    },
  };
}

/** A market symbol (checked against the catalogue by the endpoint), optional. */
export const marketParam: QueryParam<string | undefined> = {
  fallback: undefined,
  parse(raw, field) {
    if (!/^[A-Za-z0-9._-]{1,40}$/.test(raw)) throw new ApiError('INVALID_FIELD', `${field} must be a market symbol`);
    return raw;
  },
};

/** Validates a parsed query object (Express's: string values, arrays for repeats) against `spec`. */
export function parseQuery<S extends QuerySpec>(query: unknown, spec: S): QueryValues<S> {
  const raw = typeof query === 'object' && query !== null ? (query as Record<string, unknown>) : {};
  const names = Object.keys(spec);
  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(spec, name)) {
      const shown = JSON.stringify(name.slice(0, 40));
      throw new ApiError('INVALID_FIELD', names.length === 0 ? `query parameter ${shown}: this endpoint takes none` : `query parameter ${shown}: not one of ${names.join(', ')}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const p = spec[name]!;
    const v = Object.hasOwn(raw, name) ? raw[name] : undefined;
    if (v === undefined) out[name] = p.fallback;
    else if (typeof v !== 'string') throw new ApiError('INVALID_FIELD', `${name} must be given once, as a plain value`);
    else out[name] = p.parse(v, name);
  }
  return out as QueryValues<S>;
}

/** `@ValidQuery(spec) q`: the request's query validated against `spec` (type the parameter with QueryValues<typeof spec>). */
export const ValidQuery = createParamDecorator((spec: QuerySpec, ctx: ExecutionContext) => parseQuery(ctx.switchToHttp().getRequest<{ query: unknown }>().query, spec));
