import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { OrderBookError } from '@parallax/order-book';
import { ChainError } from '@parallax/chain';
import { ContractError } from '@parallax/contracts';
import { API_ERRORS, ApiError, type ApiErrorBody, type ApiErrorCode } from './api.errors.js';

/** Any thrown value -> one of the stable codes. Unknown errors become INTERNAL with no detail (no stack, no message). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ThrottlerException) return new ApiError('RATE_LIMITED', 'too many requests: see the X-RateLimit-* and Retry-After headers');
  if (err instanceof OrderBookError) {
    const code = err.code in API_ERRORS ? (err.code as ApiErrorCode) : 'INVALID_FIELD';
    return new ApiError(code, err.message);
  }
  if (err instanceof ChainError || err instanceof ContractError) return new ApiError('INVALID_FIELD', err.message);
  // Express's adapter wraps body-parser's errors (they carry `type`) in an HttpException with the cause.
  const parserError = bodyParserError(err instanceof HttpException ? err.cause : err);
  if (parserError !== undefined) return parserError;
  if (err instanceof HttpException) return fromHttp(err);
  return new ApiError('INTERNAL', 'internal error');
}

function bodyParserError(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  const type = err.type;
  if (type === 'entity.parse.failed') return new ApiError('MALFORMED_JSON', 'the request body is not valid JSON');
  if (type === 'entity.too.large') return new ApiError('PAYLOAD_TOO_LARGE', 'the request body is larger than the limit');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'unsupported body encoding');
  if (typeof type === 'string' && type.startsWith('request.')) return new ApiError('INVALID_FIELD', 'the request body could not be read');
  return undefined;
}

function fromHttp(err: HttpException): ApiError {
  const status: number = err.getStatus();
  if (status === 404) return new ApiError('NOT_FOUND', 'no such route');
  if (status === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'the request body is larger than the limit');
  if (status === 429) return new ApiError('RATE_LIMITED', 'too many requests');
  if (status === 405) return new ApiError('METHOD_NOT_ALLOWED', 'method not allowed');
  if (status === 415) return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'unsupported media type');
  if (status >= 400 && status < 500) return new ApiError('INVALID_FIELD', 'invalid request');
  // /ready while a dependency is down (Terminus's answer): 503, naming the checks that failed.
  if (status === 503) return new ApiError('UNAVAILABLE', notReady(err.getResponse()));
  return new ApiError('INTERNAL', 'internal error');
}

/** "not ready: database (read-model tables missing: ...)" from a Terminus health result's `error` entries. */
function notReady(response: unknown): string {
  const failed = typeof response === 'object' && response !== null && 'error' in response ? response.error : undefined;
  if (typeof failed !== 'object' || failed === null) return 'not ready';
  const parts = Object.entries(failed as Record<string, unknown>).map(([key, v]) => {
    const message = typeof v === 'object' && v !== null && 'message' in v && typeof v.message === 'string' ? v.message : undefined;
    return message === undefined ? key : `${key} (${message.slice(0, 200)})`;
  });
  return parts.length === 0 ? 'not ready' : `not ready: ${parts.join(', ')}`;
}

interface HttpResponse {
  status(code: number): { json(body: unknown): void };
}

/** The one place errors become HTTP responses: `{ error: { code, message } }`, never a stack trace. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly onInternal: (err: unknown) => void = () => undefined) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const e = toApiError(exception);
    if (e.code === 'INTERNAL') this.onInternal(exception);
    if (host.getType() !== 'http') return;
    const res = host.switchToHttp().getResponse<HttpResponse>();
    const body: ApiErrorBody = { error: { code: e.code, message: e.message } };
    res.status(e.status).json(body);
  }
}
