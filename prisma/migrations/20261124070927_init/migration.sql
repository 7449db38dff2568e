-- CreateEnum
CREATE TYPE "market_status" AS ENUM ('ACTIVE', 'POST_ONLY', 'HALTED', 'DELISTED');

-- CreateEnum
CREATE TYPE "side" AS ENUM ('BUY', 'SELL');

-- CreateEnum
CREATE TYPE "order_type" AS ENUM ('LIMIT', 'MARKET');

-- CreateEnum
CREATE TYPE "time_in_force" AS ENUM ('GTC', 'IOC', 'FOK', 'POST_ONLY');

-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED');

-- CreateTable
CREATE TABLE "markets" (
    "id" VARCHAR(32) NOT NULL,
    "base_asset" VARCHAR(16) NOT NULL,
    "quote_asset" VARCHAR(16) NOT NULL,
    "tick_size" DECIMAL(38,18) NOT NULL,
    "lot_size" DECIMAL(38,18) NOT NULL,
    "min_size_lots" BIGINT NOT NULL,
    "min_notional" DECIMAL(38,18) NOT NULL,
    "status" "market_status" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "markets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" VARCHAR(64) NOT NULL,
    "market_id" VARCHAR(32) NOT NULL,
    "account" VARCHAR(42) NOT NULL,
    "client_order_id" VARCHAR(64),
    "side" "side" NOT NULL,
    "type" "order_type" NOT NULL,
    "time_in_force" "time_in_force" NOT NULL,
    "price_ticks" BIGINT,
    "size_lots" BIGINT NOT NULL,
    "filled_lots" BIGINT NOT NULL DEFAULT 0,
    "status" "order_status" NOT NULL,
    "sequence" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trades" (
    "id" VARCHAR(64) NOT NULL,
    "market_id" VARCHAR(32) NOT NULL,
    "sequence" BIGINT NOT NULL,
    "maker_order_id" VARCHAR(64) NOT NULL,
    "taker_order_id" VARCHAR(64) NOT NULL,
    "maker_account" VARCHAR(42) NOT NULL,
    "taker_account" VARCHAR(42) NOT NULL,
    "price_ticks" BIGINT NOT NULL,
    "size_lots" BIGINT NOT NULL,
    "taker_side" "side" NOT NULL,
    "executed_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trades_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "markets_base_asset_quote_asset_key" ON "markets"("base_asset", "quote_asset");

-- CreateIndex
CREATE INDEX "orders_account_created_at_idx" ON "orders"("account", "created_at" DESC);

-- CreateIndex
CREATE INDEX "orders_account_status_idx" ON "orders"("account", "status");

-- CreateIndex
CREATE INDEX "orders_market_id_status_idx" ON "orders"("market_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "orders_account_client_order_id_key" ON "orders"("account", "client_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "orders_market_id_sequence_key" ON "orders"("market_id", "sequence");

-- CreateIndex
CREATE INDEX "trades_market_id_executed_at_idx" ON "trades"("market_id", "executed_at" DESC);

-- CreateIndex
CREATE INDEX "trades_maker_account_executed_at_idx" ON "trades"("maker_account", "executed_at" DESC);

-- CreateIndex
CREATE INDEX "trades_taker_account_executed_at_idx" ON "trades"("taker_account", "executed_at" DESC);

-- CreateIndex
CREATE INDEX "trades_maker_order_id_idx" ON "trades"("maker_order_id");

-- CreateIndex
CREATE INDEX "trades_taker_order_id_idx" ON "trades"("taker_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "trades_market_id_sequence_key" ON "trades"("market_id", "sequence");

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_market_id_fkey" FOREIGN KEY ("market_id") REFERENCES "markets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trades" ADD CONSTRAINT "trades_market_id_fkey" FOREIGN KEY ("market_id") REFERENCES "markets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trades" ADD CONSTRAINT "trades_maker_order_id_fkey" FOREIGN KEY ("maker_order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trades" ADD CONSTRAINT "trades_taker_order_id_fkey" FOREIGN KEY ("taker_order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
