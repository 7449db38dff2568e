// The one place where a bot turns its key into an API client. Today the bot signs with the key it is given
// (the wallet's); when the SDK signs for a wallet with a trading key the wallet authorised on-chain, this is
// the only function that changes.
import { ParallaxClient } from '@parallax/sdk';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export interface BotKeys {
  /** The key that signs orders, cancels and logins (0x + 64 hex digits). */
  readonly privateKey: Hex;
}

/** Signed cancels and logins live this long (seconds): long enough for a WebSocket session between reconnects. */
const AUTH_SECONDS = 600;

export function botClient(gatewayUrl: string, keys: BotKeys): ParallaxClient {
  return new ParallaxClient({ url: gatewayUrl.replace(/\/+$/, ''), account: privateKeyToAccount(keys.privateKey), authSeconds: AUTH_SECONDS });
}
