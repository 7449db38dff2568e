import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingFill, SettlementOrderRecord } from '@parallax/persistence';
import { describeDatabase } from '../app/bootstrap.js';
import { isTraderFault, signedOrderMismatch } from './fill-checks.js';

const order = (orderId: bigint, accountId: bigint, isBuy: boolean): SettlementOrderRecord => ({
  marketId: 1,
  orderId,
  accountId,
  trader: `0x${accountId.toString(16).padStart(40, '0')}`,
  isBuy,
  price: 1n,
  size: 1n,
  nonce: orderId,
  maxFeeRate: 0,
  expiry: 1n,
  signature: `0x${'ab'.repeat(32)}${'1b'.repeat(33)}`,
});

const fill = (over: Partial<PendingFill> = {}): PendingFill => ({
  id: 1n,
  marketId: 1,
  seq: 5n,
  makerOrderId: 10n,
  takerOrderId: 11n,
  makerAccountId: 100n,
  takerAccountId: 101n,
  takerSide: 'BUY',
  priceTicks: 1n,
  sizeLots: 1n,
  ts: 1n,
  status: 'PENDING',
  createdAt: new Date(0),
  maker: order(10n, 100n, false),
  taker: order(11n, 101n, true),
  ...over,
});

describe('signedOrderMismatch', () => {
  it('accepts a trade whose signed orders are its accounts\' on its sides', () => {
    assert.equal(signedOrderMismatch(fill()), undefined);
    assert.equal(signedOrderMismatch(fill({ takerSide: 'SELL', maker: order(10n, 100n, true), taker: order(11n, 101n, false) })), undefined);
  });

  it('names every contradiction: another maker or taker account, the taker\'s or the maker\'s side', () => {
    assert.match(signedOrderMismatch(fill({ maker: order(10n, 7n, false) })) ?? '', /maker order 10 is signed for account 7, the trade's maker is account 100/);
    assert.match(signedOrderMismatch(fill({ taker: order(11n, 8n, true) })) ?? '', /taker order 11 is signed for account 8, the trade's taker is account 101/);
    assert.match(signedOrderMismatch(fill({ taker: order(11n, 101n, false) })) ?? '', /the taker buys but its signed order sells/);
    assert.match(signedOrderMismatch(fill({ maker: order(10n, 100n, true) })) ?? '', /the maker sells but its signed order buys/);
  });

  it('checks only the sides of rows stored before account ids were kept', () => {
    const legacy = { makerAccountId: undefined, takerAccountId: undefined };
    assert.equal(signedOrderMismatch(fill({ ...legacy, maker: order(10n, 7n, false) })), undefined);
    assert.notEqual(signedOrderMismatch(fill({ ...legacy, taker: order(11n, 101n, false) })), undefined);
  });

  it('has nothing to say while an order is missing (the fill waits for it)', () => {
    assert.equal(signedOrderMismatch(fill({ maker: undefined })), undefined);
  });
});

describe('isTraderFault', () => {
  it('blames the trader only for what the trader controls', () => {
    for (const r of ['FillUnderfunded', 'InvalidSignature', 'OrderExpired', 'OrderNonceUsed', 'Overfill', 'PriceLimitExceeded', 'FeeRateExceeded']) assert.ok(isTraderFault(r), r);
    for (const r of ['UNDECODABLE_REVERT', 'SideMismatch', 'MarketMismatch', 'MalformedBatch', 'EXCEEDS_MAX_TX_GAS', 'INVALID_FILL', 'BatchOutOfOrder']) assert.ok(!isTraderFault(r), r);
  });
});

describe('describeDatabase', () => {
  it('names host, port and database, never the credentials', () => {
    const d = describeDatabase({ databaseUrl: 'postgresql://settle:s3cret-pw@db.internal:6432/parallax?sslmode=require', dataDir: undefined });
    assert.equal(d, 'PostgreSQL db.internal:6432/parallax');
    assert.ok(!d.includes('s3cret'));
    assert.equal(describeDatabase({ databaseUrl: undefined, dataDir: undefined }), 'embedded PGlite in memory (ephemeral)');
    assert.equal(describeDatabase({ databaseUrl: undefined, dataDir: '/var/lib/parallax' }), 'embedded PGlite in /var/lib/parallax');
  });
});
