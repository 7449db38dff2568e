-- CreateEnum
CREATE TYPE "settlement_fill_status" AS ENUM ('PENDING', 'BATCHED', 'SETTLED', 'FAILED');

-- CreateEnum
CREATE TYPE "settlement_batch_status" AS ENUM ('CREATED', 'SUBMITTED', 'MINED', 'CONFIRMED');

-- CreateTable
CREATE TABLE "settlement_orders" (
    "market_id" INTEGER NOT NULL,
    "order_id" BIGINT NOT NULL,
    "account_id" BIGINT NOT NULL,
    "trader" VARCHAR(42) NOT NULL,
    "is_buy" BOOLEAN NOT NULL,
    "price" DECIMAL(39,0) NOT NULL,
    "size" DECIMAL(39,0) NOT NULL,
    "nonce" DECIMAL(39,0) NOT NULL,
    "max_fee_rate" INTEGER NOT NULL,
    "expiry" BIGINT NOT NULL,
    "signature" VARCHAR(132) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlement_orders_pkey" PRIMARY KEY ("market_id","order_id")
);

-- CreateTable
CREATE TABLE "settlement_fills" (
    "id" BIGSERIAL NOT NULL,
    "market_id" INTEGER NOT NULL,
    "seq" BIGINT NOT NULL,
    "maker_order_id" BIGINT NOT NULL,
    "taker_order_id" BIGINT NOT NULL,
    "taker_side" "side" NOT NULL,
    "price_ticks" BIGINT NOT NULL,
    "size_lots" BIGINT NOT NULL,
    "ts" BIGINT NOT NULL,
    "status" "settlement_fill_status" NOT NULL DEFAULT 'PENDING',
    "batch_id" BIGINT,
    "failure_reason" VARCHAR(64),
    "failure_detail" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlement_fills_pkey" PRIMARY KEY ("market_id","seq")
);

-- CreateTable
CREATE TABLE "settlement_batches" (
    "id" BIGINT NOT NULL,
    "status" "settlement_batch_status" NOT NULL DEFAULT 'CREATED',
    "fill_count" INTEGER NOT NULL,
    "order_count" INTEGER NOT NULL,
    "gas_limit" BIGINT NOT NULL,
    "data" BYTEA NOT NULL,
    "tx_hash" VARCHAR(66),
    "nonce" INTEGER,
    "block_number" BIGINT,
    "block_hash" VARCHAR(66),
    "gas_used" BIGINT,
    "effective_gas_price" DECIMAL(39,0),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submitted_at" TIMESTAMPTZ(3),
    "mined_at" TIMESTAMPTZ(3),
    "confirmed_at" TIMESTAMPTZ(3),

    CONSTRAINT "settlement_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settlement_txs" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" BIGINT NOT NULL,
    "hash" VARCHAR(66) NOT NULL,
    "nonce" INTEGER NOT NULL,
    "gas_limit" BIGINT NOT NULL,
    "max_fee_per_gas" DECIMAL(39,0) NOT NULL,
    "max_priority_fee_per_gas" DECIMAL(39,0) NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "settlement_txs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "settlement_fills_id_key" ON "settlement_fills"("id");

-- CreateIndex
CREATE INDEX "settlement_fills_status_id_idx" ON "settlement_fills"("status", "id");

-- CreateIndex
CREATE INDEX "settlement_fills_batch_id_idx" ON "settlement_fills"("batch_id");

-- CreateIndex
CREATE INDEX "settlement_batches_status_idx" ON "settlement_batches"("status");

-- CreateIndex
CREATE UNIQUE INDEX "settlement_txs_hash_key" ON "settlement_txs"("hash");

-- CreateIndex
CREATE INDEX "settlement_txs_batch_id_id_idx" ON "settlement_txs"("batch_id", "id");

-- AddForeignKey
ALTER TABLE "settlement_fills" ADD CONSTRAINT "settlement_fills_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "settlement_batches"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "settlement_txs" ADD CONSTRAINT "settlement_txs_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "settlement_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
