// A trader's client order id as it travels with its order (the risk requests' place record, the signed orders
// the shards publish): 1..36 characters of [A-Za-z0-9_-], written as a length byte and its ASCII bytes. It lets
// any reader (a fresh gateway, the projector) find an order by the id its trader gave it.
import { invalidField, type ContractReader, type ContractWriter } from '../wire.js';

export const CLIENT_ORDER_ID_RE = /^[A-Za-z0-9_-]{1,36}$/;
export const MAX_CLIENT_ORDER_ID_CHARS = 36;

export function writeClientOrderId(w: ContractWriter, id: unknown, field = 'clientOrderId'): void {
  if (typeof id !== 'string' || !CLIENT_ORDER_ID_RE.test(id)) invalidField(field, id, '1..36 characters of [A-Za-z0-9_-]');
  w.blob(new TextEncoder().encode(id));
}

export function readClientOrderId(r: ContractReader, field = 'clientOrderId'): string {
  const s = r.string(field, MAX_CLIENT_ORDER_ID_CHARS);
  if (!CLIENT_ORDER_ID_RE.test(s)) r.fail('INVALID_FIELD', `${field} must be 1..36 characters of [A-Za-z0-9_-]`);
  return s;
}
