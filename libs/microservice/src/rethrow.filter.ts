import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * Nest's default RPC filter replaces unknown errors by a generic "Internal server error" object. A batch
 * consumer must see the real error (a fenced producer, a failed commit, a database that is gone) to stop and
 * report it, so this one passes every error through unchanged.
 */
@Catch()
export class RethrowFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
