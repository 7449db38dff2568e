// Rate limits that count a batch request as the orders (or cancels) it carries, with one storage operation per
// request: a budget of 500 a second per account is 500 orders whether they come one per request or 50 per batch.
//
// The Nest throttler counts requests. WeightedThrottlerGuard keeps its configuration (named throttlers, trackers,
// keys, the X-RateLimit-* and Retry-After headers, RATE_LIMITED through ThrottlerException) and asks
// WeightedThrottlerStorage for one hit of weight N. The storage is a sliding log per key and throttler: each
// request's weight expires `ttl` after it was counted. A request that does not fit the budget left is refused
// and not counted (a batch larger than what is left does not lock the account out for a window); its
// Retry-After says when enough of the budget will have expired for it to fit.
import { Injectable, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerRequest, type ThrottlerStorage } from '@nestjs/throttler';

const WEIGHT_FIELD = 'parallax:throttle-weight-field';
/** The most a request can weigh: the DTOs refuse larger batches anyway. */
export const MAX_REQUEST_WEIGHT = 1_000;

/** A route whose request body's `field` array counts one per element against the rate limits. */
export const WeighedBy = (field: string): MethodDecorator => SetMetadata(WEIGHT_FIELD, field);

/** The weight of a request body: the length of its `field` array (1..MAX_REQUEST_WEIGHT), else 1. */
export function requestWeight(body: unknown, field: string | undefined): number {
  if (field === undefined || typeof body !== 'object' || body === null) return 1;
  const list = (body as Record<string, unknown>)[field];
  return Array.isArray(list) ? Math.min(MAX_REQUEST_WEIGHT, Math.max(1, list.length)) : 1;
}

export interface WeightedHit {
  /** The weight counted in the window, this request's included when it was let through. */
  readonly totalHits: number;
  /** Seconds until the oldest counted weight expires (X-RateLimit-Reset). */
  readonly timeToExpire: number;
  readonly isBlocked: boolean;
  /** For a refused request: seconds until it would fit (Retry-After). */
  readonly timeToBlockExpire: number;
}

interface Log {
  /** Expiry times (ms) and weights, oldest first (a throttler's ttl is fixed, so counting order is expiry order). */
  readonly expiries: number[];
  readonly weights: number[];
  head: number;
  total: number;
}

export class WeightedThrottlerStorage implements ThrottlerStorage {
  private readonly logs = new Map<string, Log>();
  private sweptAt = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /** The Nest interface: a hit of weight 1. */
  increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string): Promise<WeightedHit> {
    return Promise.resolve(this.hit(key, ttl, limit, throttlerName, 1));
  }

  hit(key: string, ttl: number, limit: number, throttlerName: string, weight: number): WeightedHit {
    const now = this.clock();
    this.sweep(now);
    const id = `${throttlerName}\u0000${key}`;
    let log = this.logs.get(id);
    if (log === undefined) this.logs.set(id, (log = { expiries: [], weights: [], head: 0, total: 0 }));
    expire(log, now);
    const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));
    if (log.total + weight > limit) {
      // When would it fit: once enough of the oldest weight has expired (never within a window if it
      // weighs more than the whole limit: then a full window).
      let wait = ttl;
      if (weight <= limit) {
        let freed = 0;
        for (let i = log.head; i < log.expiries.length; i++) {
          freed += log.weights[i]!;
          if (log.total - freed + weight <= limit) {
            wait = log.expiries[i]! - now;
            break;
          }
        }
      }
      return { totalHits: log.total + weight, timeToExpire: seconds(log.head < log.expiries.length ? log.expiries[log.head]! - now : ttl), isBlocked: true, timeToBlockExpire: Math.max(1, seconds(wait)) };
    }
    log.expiries.push(now + ttl);
    log.weights.push(weight);
    log.total += weight;
    return { totalHits: log.total, timeToExpire: seconds(log.expiries[log.head]! - now), isBlocked: false, timeToBlockExpire: 0 };
  }

  /** Keys tracked (idle ones are dropped every 10 s). */
  get size(): number {
    return this.logs.size;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 10_000) return;
    this.sweptAt = now;
    for (const [id, log] of this.logs) {
      expire(log, now);
      if (log.total === 0) this.logs.delete(id);
    }
  }
}

function expire(log: Log, now: number): void {
  while (log.head < log.expiries.length && log.expiries[log.head]! <= now) {
    log.total -= log.weights[log.head]!;
    log.head++;
  }
  // Compact once the expired prefix is the larger part.
  if (log.head > 64 && log.head * 2 > log.expiries.length) {
    log.expiries.splice(0, log.head);
    log.weights.splice(0, log.head);
    log.head = 0;
  }
}

/** ThrottlerGuard with one weighted hit per request and throttler (ThrottlerModule's storage must be a WeightedThrottlerStorage). */
@Injectable()
export class WeightedThrottlerGuard extends ThrottlerGuard {
  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, getTracker, generateKey } = props;
    const { req, res } = this.getRequestResponse(context);
    const name = throttler.name ?? 'default';
    const tracker = await getTracker(req, context);
    const key = generateKey(context, tracker, name);
    const field = this.reflector.get<string | undefined>(WEIGHT_FIELD, context.getHandler());
    const storage = this.storageService;
    if (!(storage instanceof WeightedThrottlerStorage)) throw new Error('WeightedThrottlerGuard needs a WeightedThrottlerStorage');
    const r = storage.hit(key, ttl, limit, name, requestWeight(req['body'], field));
    const suffix = name === 'default' ? '' : `-${name}`;
    if (r.isBlocked) {
      this.setResponseHeader(res, `Retry-After${suffix}`, r.timeToBlockExpire);
      await this.throwThrottlingException(context, { limit, ttl, key, tracker, ...r });
    }
    this.setResponseHeader(res, `${this.headerPrefix}-Limit${suffix}`, limit);
    this.setResponseHeader(res, `${this.headerPrefix}-Remaining${suffix}`, Math.max(0, limit - r.totalHits));
    this.setResponseHeader(res, `${this.headerPrefix}-Reset${suffix}`, r.timeToExpire);
    return true;
  }
}
