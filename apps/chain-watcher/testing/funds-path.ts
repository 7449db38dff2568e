// Test support of the funds path on anvil (the chain-watcher tests with risk, a matching engine and settlement):
// signed limit orders as the gateway forwards them to risk, blocks mined in the background so deposits and
// batches get confirmed, and what the settlement contract holds and applied.
import { settlementAbi, signOrder, type LocalChain, type SettlementDomain } from '@parallax/chain';
import type { ClientRequest } from '@parallax/contracts';
import { OrderType, StpMode, TimeInForce } from '@parallax/order-book';
import type { RiskMarket, Address as RiskAddress } from '@parallax/risk';
import { getAddress, type Address, type LocalAccount } from 'viem';

export interface SignedPlace {
  readonly isBuy: boolean;
  readonly priceTicks: number;
  readonly lots: number;
  readonly nonce: bigint;
  /** Fee bound signed into the order (parts per million). */
  readonly maxFeeRate: number;
  /** Unix seconds. */
  readonly expiry: bigint;
  /** Request time as a gateway stamps it (books refuse time going back). */
  readonly ts: number;
  readonly tif?: TimeInForce;
}

/** A limit order signed by `who` (a real EIP-712 signature the contract checks) on `market`, as the gateway forwards it to risk. */
export async function signedPlaceRequest(who: LocalAccount, domain: SettlementDomain, market: RiskMarket, o: SignedPlace): Promise<ClientRequest> {
  const signed = await signOrder(who, domain, {
    trader: who.address,
    baseToken: getAddress(market.baseToken),
    quoteToken: getAddress(market.quoteToken),
    isBuy: o.isBuy,
    price: BigInt(o.priceTicks) * market.tickSize,
    size: BigInt(o.lots) * market.lotSize,
    maxFeeRate: o.maxFeeRate,
    expiry: o.expiry,
    nonce: o.nonce,
  });
  const account = who.address.toLowerCase() as RiskAddress;
  return {
    type: 'place',
    ts: o.ts,
    account,
    signer: account,
    marketId: market.marketId,
    orderType: OrderType.Limit,
    tif: o.tif ?? TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.CancelOldest,
    order: { ...signed, trader: account, baseToken: market.baseToken, quoteToken: market.quoteToken },
  };
}

/**
 * Mines a block every `everyMs` until the returned stop is called: anvil mines a block per transaction only,
 * and confirmations need blocks on top. A failed mine (the node busy or gone) is skipped.
 */
export function keepMining(lc: LocalChain, everyMs = 100): () => Promise<void> {
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      await lc.testClient.mine({ blocks: 1 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}

/** Fills the contract applied (FillsSettled) and skipped for lack of funds (FillsSkipped), over all batches. */
export async function fillsOnChain(lc: LocalChain): Promise<{ settled: number; skipped: number }> {
  const settled = await lc.publicClient.getContractEvents({ address: lc.settlement, abi: settlementAbi, eventName: 'FillsSettled', fromBlock: 1n });
  const skipped = await lc.publicClient.getContractEvents({ address: lc.settlement, abi: settlementAbi, eventName: 'FillsSkipped', fromBlock: 1n });
  return {
    // `fills` is hex: 106 bytes a settled fill.
    settled: settled.reduce((n, l) => n + (l.args.fills!.length - 2) / 2 / 106, 0),
    skipped: skipped.reduce((n, l) => n + l.args.fillIndexes!.length, 0),
  };
}

/** The contract's balance of `trader` in `token`. */
export function balanceOf(lc: LocalChain, trader: string, token: string): Promise<bigint> {
  return lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'balanceOf', args: [token as Address, trader as Address] });
}
