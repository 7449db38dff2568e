// Every EIP-712 type this deployment signs, in one table: the settlement contract's `Order` and the trading
// API's own `Cancel`, `CancelAll` and `Login` (api-auth.ts). All are signed in the same domain (chain id +
// settlement contract), each under its own primary type, so a signature made for one can never pass as
// another. The `types` objects viem signs with and the type strings hashed by hand (order.ts) come from here.

export const EIP712_TYPES = {
  Order: [
    { name: 'trader', type: 'address' },
    { name: 'baseToken', type: 'address' },
    { name: 'quoteToken', type: 'address' },
    { name: 'isBuy', type: 'bool' },
    { name: 'price', type: 'uint128' },
    { name: 'size', type: 'uint128' },
    { name: 'maxFeeRate', type: 'uint32' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
  /** Cancel one order, by engine id (clientOrderId '') or by client order id (orderId 0). */
  Cancel: [
    { name: 'trader', type: 'address' },
    { name: 'marketId', type: 'uint32' },
    { name: 'orderId', type: 'uint64' },
    { name: 'clientOrderId', type: 'string' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
  /** marketId 0 = every market. */
  CancelAll: [
    { name: 'trader', type: 'address' },
    { name: 'marketId', type: 'uint32' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
  Login: [
    { name: 'trader', type: 'address' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
} as const;

export type SignedTypeName = keyof typeof EIP712_TYPES;

/** The `types` argument of viem's signTypedData / hashTypedData for one primary type. */
export function typesOf<T extends SignedTypeName>(name: T): { readonly [K in T]: (typeof EIP712_TYPES)[T] } {
  return { [name]: EIP712_TYPES[name] } as { readonly [K in T]: (typeof EIP712_TYPES)[T] };
}

/** EIP-712 encodeType of a struct without struct members: `Name(type1 name1,type2 name2,...)`. */
export function encodeType(name: SignedTypeName): string {
  return `${name}(${EIP712_TYPES[name].map((f) => `${f.type} ${f.name}`).join(',')})`;
}
