// Engine account ids for wallet addresses. The engine matches by integer account (self-trade prevention,
// cancel-all, ownership); the API is addressed by wallet. Until the risk shards own an account registry, the
// id is derived: the first 52 bits of keccak256(address), + 1 (0 is never used). Deterministic, so every
// gateway instance and every restart agrees without shared state.
// Known limit (stated in the README): a derived id can collide. Random collisions are negligible at
// 52 bits, but an attacker can grind addresses for ~2^52 hashes to share a victim's engine id; the gateway
// checks ownership by address for everything it can (cancel by id, reads), but the engine's cancel-all and
// self-trade prevention act on the id. The registry the risk branch builds replaces this function.
import { keccak256, type Address } from 'viem';

// Remembered per address: keccak256 in JS is one of the larger per-order costs (bench:api), and a trader sends many orders.
const cache = new Map<string, number>();
const CACHE_LIMIT = 100_000;

export function accountIdOf(trader: Address): number {
  const key = trader.toLowerCase();
  let id = cache.get(key);
  if (id === undefined) {
    id = Number.parseInt(keccak256(key as Address).slice(2, 15), 16) + 1;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, id);
  }
  return id;
}
