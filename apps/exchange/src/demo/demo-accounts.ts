// The demo's traders on the local chain: anvil's well-known dev accounts 4, 5 and 6 (0-3 are the deployer,
// the operator, the fee recipient and the funder). TEST KEYS: everyone knows them, so they must never hold
// anything of value; they exist only on the local anvil node this launch starts.
import { ANVIL_MNEMONIC, authorizeTradingKey } from '@parallax/chain';
import type { LocalSettlementChain } from '@parallax/settlement';
import { bytesToHex, type Address, type Hex } from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';

export interface DemoKey {
  readonly address: Address;
  readonly privateKey: Hex;
}

export interface DemoAccounts {
  /** The market maker's wallet: its funds in the vault. */
  readonly marketMaker: DemoKey;
  /** The trading key the market maker's wallet authorized on chain (`authorizeTradingKey`). */
  readonly marketMakerTradingKey: DemoKey;
  /** The taker bot's wallet. */
  readonly taker: DemoKey;
}

/** Index of the first demo account in anvil's mnemonic. */
export const FIRST_DEMO_ACCOUNT = 4;

function devKey(index: number): DemoKey {
  const key = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (key === null) throw new Error(`no private key for dev account ${index}`);
  const privateKey = bytesToHex(key);
  return { address: privateKeyToAccount(privateKey).address, privateKey };
}

/** The same three accounts on every run (a newcomer can import them into a wallet pointed at the local node). */
export function demoAccounts(): DemoAccounts {
  return { marketMaker: devKey(FIRST_DEMO_ACCOUNT), marketMakerTradingKey: devKey(FIRST_DEMO_ACCOUNT + 1), taker: devKey(FIRST_DEMO_ACCOUNT + 2) };
}

/** How long the market maker's trading key stays authorized (the contract takes an absolute expiry). */
export const TRADING_KEY_DAYS = 30;

/**
 * Mints the test tokens and deposits them into the vault for both bots' wallets (the default deposits of the
 * local settlement chain: plenty for hours of demo trading), and authorizes the market maker's trading key
 * from its wallet. Each is a mined, checked transaction: afterwards the vault holds what the bots trade.
 */
export async function fundDemoAccounts(local: LocalSettlementChain, accounts: DemoAccounts): Promise<{ readonly tradingKeyExpiry: bigint }> {
  await local.fundTraders([accounts.marketMaker.address, accounts.taker.address]);
  const block = await local.chain.publicClient.getBlock();
  const tradingKeyExpiry = block.timestamp + BigInt(TRADING_KEY_DAYS * 86_400);
  const wallet = local.chain.wallet(privateKeyToAccount(accounts.marketMaker.privateKey));
  await authorizeTradingKey(wallet, local.chain.publicClient, local.chain.settlement, accounts.marketMakerTradingKey.address, tradingKeyExpiry);
  return { tradingKeyExpiry };
}
