// Shared pieces of the settlement benchmark: signed orders and trades in the settlement service's own
// shapes (SignedOrderRecord, SettlementTrade), fast funding of many traders, and a batch-RPC balance reader.
import { expectSuccess, orderForPlace, settlementAbi, signOrder, testTokenAbi, type SettlementDomain, type SettlementMarket } from '@parallax/chain';
import type { SignedOrderRecord } from '@parallax/contracts';
import { createPublicClient, http, parseGwei, type Address, type Hex, type LocalAccount } from 'viem';
import { toSignedOrderRecord } from '../domain/records.js';
import type { SettlementTrade } from '../domain/trades.js';
import type { LocalSettlementChain } from '../local/local-settlement.js';
import { flowOrderKey } from '../testing/signed-flow.js';

export const FEES = { makerFeeRate: 500, takerFeeRate: 1_000 } as const;
export const MAX_FEE_RATE_SIGNED = 2_000;
export const CENTER_TICKS = 200_000;

/** Signs orders with unique ids per market and hands out per-market trade sequences. */
export class OrderSigner {
  private nextOrderId = 1;
  private readonly seqs = new Map<number, number>();

  constructor(
    private readonly domain: SettlementDomain,
    private readonly expiry: bigint,
  ) {}

  async order(
    market: SettlementMarket,
    account: LocalAccount,
    accountId: number,
    p: { readonly isBuy: boolean; readonly priceTicks: number; readonly sizeLots: number; readonly nonce: bigint },
    into: Map<string, SignedOrderRecord>,
  ): Promise<SignedOrderRecord> {
    const orderId = this.nextOrderId++;
    const o = orderForPlace(
      market,
      { isBuy: p.isBuy, isMarket: false, priceTicks: p.priceTicks, sizeLots: p.sizeLots },
      { trader: account.address, nonce: p.nonce, expiry: this.expiry, maxFeeRate: MAX_FEE_RATE_SIGNED },
    );
    const s = await signOrder(account, this.domain, o);
    const record = toSignedOrderRecord(orderId, accountId, s);
    into.set(flowOrderKey(market.marketId, orderId), record);
    return record;
  }

  /** One trade of `sizeLots` at `priceTicks` between a buy and a sell order (the taker side as given). */
  trade(market: SettlementMarket, buy: SignedOrderRecord, sell: SignedOrderRecord, takerSide: 'BUY' | 'SELL', priceTicks: number, sizeLots: number): SettlementTrade {
    const seq = (this.seqs.get(market.marketId) ?? 0) + 1;
    this.seqs.set(market.marketId, seq);
    const [maker, taker] = takerSide === 'BUY' ? [sell, buy] : [buy, sell];
    return {
      marketId: market.marketId,
      seq,
      makerOrderId: maker.orderId,
      makerAccountId: maker.accountId,
      takerOrderId: taker.orderId,
      takerAccountId: taker.accountId,
      takerSide,
      priceTicks,
      sizeLots,
      ts: seq,
    };
  }
}

export interface Funding {
  readonly trader: Address;
  readonly token: Address;
  readonly amount: bigint;
}

/**
 * Deposits for many traders in a few blocks: automine off, one mint per token, then every depositFor with an
 * explicit nonce, gas and fees, then enough blocks mined for all of them (anvil's 30M block gas limit).
 */
export async function fundMany(local: LocalSettlementChain, entries: readonly Funding[]): Promise<void> {
  if (entries.length === 0) return;
  const { chain } = local;
  const fees = { maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1') };
  const totals = new Map<Address, bigint>();
  for (const e of entries) totals.set(e.token, (totals.get(e.token) ?? 0n) + e.amount);
  await chain.testClient.setAutomine(false);
  const hashes: Hex[] = [];
  try {
    let nonce = await chain.publicClient.getTransactionCount({ address: chain.funder.account.address, blockTag: 'pending' });
    for (const [token, total] of totals) {
      hashes.push(
        await chain.funder.writeContract({ address: token, abi: testTokenAbi, functionName: 'mint', args: [chain.funder.account.address, total], gas: 100_000n, nonce: nonce++, ...fees }),
      );
    }
    for (const e of entries) {
      hashes.push(
        await chain.funder.writeContract({ address: chain.settlement, abi: settlementAbi, functionName: 'depositFor', args: [e.trader, e.token, e.amount], gas: 150_000n, nonce: nonce++, ...fees }),
      );
    }
    await chain.testClient.mine({ blocks: Math.ceil((hashes.length * 150_000) / 30_000_000) + 1 });
  } finally {
    await chain.testClient.setAutomine(true);
  }
  const last = hashes.at(-1);
  if (last !== undefined) await expectSuccess(chain.publicClient, last, 'funding deposits');
  for (const e of entries) {
    const k = `${e.trader.toLowerCase()}/${e.token.toLowerCase()}`;
    local.deposits.set(k, (local.deposits.get(k) ?? 0n) + e.amount);
  }
}

/** Reads many internal balances in a few HTTP round trips (JSON-RPC batches). */
export function balanceReader(local: LocalSettlementChain): (keys: readonly string[]) => Promise<Map<string, bigint>> {
  const client = createPublicClient({ chain: local.chain.chain, transport: http(local.chain.anvil.rpcUrl, { batch: { batchSize: 500, wait: 0 } }) });
  return async (keys) => {
    const values = await Promise.all(
      keys.map((k) => {
        const [owner, token] = k.split('/') as [Address, Address];
        return client.readContract({ address: local.chain.settlement, abi: settlementAbi, functionName: 'balanceOf', args: [token, owner] });
      }),
    );
    return new Map(keys.map((k, i) => [k, values[i]!]));
  };
}
