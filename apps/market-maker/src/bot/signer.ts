// The one place where a bot turns its key into an API client. A bot should not hold its owner's wallet key: the
// wallet authorizes a trading key on the settlement contract (authorizeTradingKey, with an expiry, revocable),
// and the bot signs with that key for the wallet (`trader`). Without `trader` the key is the wallet's own.
import { ParallaxClient } from '@parallax/sdk';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export interface BotKeys {
  /** The key that signs orders, cancels and logins (0x + 64 hex digits): a trading key, or the wallet's own. */
  readonly privateKey: Hex;
  /** The wallet the bot trades for, when privateKey is a trading key that wallet authorized. */
  readonly trader?: Address;
}

/** Signed cancels and logins live this long (seconds): long enough for a WebSocket session between reconnects. */
const AUTH_SECONDS = 600;

export function botClient(gatewayUrl: string, keys: BotKeys): ParallaxClient {
  return new ParallaxClient({
    url: gatewayUrl.replace(/\/+$/, ''),
    account: privateKeyToAccount(keys.privateKey),
    ...(keys.trader === undefined ? {} : { trader: keys.trader }),
    authSeconds: AUTH_SECONDS,
  });
}
