-- CreateTable
CREATE TABLE "market_orders" (
    "market_id" INTEGER NOT NULL,
    "order_id" BIGINT NOT NULL,
    "account_id" BIGINT NOT NULL,
    "side" SMALLINT,
    "order_type" SMALLINT,
    "tif" SMALLINT,
    "price_ticks" BIGINT,
    "size_lots" BIGINT NOT NULL,
    "filled_lots" BIGINT NOT NULL DEFAULT 0,
    "notional" DECIMAL(39,0) NOT NULL DEFAULT 0,
    "status" VARCHAR(16) NOT NULL,
    "reason" VARCHAR(32),
    "created_ts" BIGINT NOT NULL,
    "updated_ts" BIGINT NOT NULL,
    "seq" BIGINT NOT NULL,
    "updated_seq" BIGINT NOT NULL,

    CONSTRAINT "market_orders_pkey" PRIMARY KEY ("market_id","order_id")
);

-- CreateTable
CREATE TABLE "market_trades" (
    "market_id" INTEGER NOT NULL,
    "seq" BIGINT NOT NULL,
    "ts" BIGINT NOT NULL,
    "price_ticks" BIGINT NOT NULL,
    "size_lots" BIGINT NOT NULL,
    "taker_side" SMALLINT NOT NULL,
    "maker_order_id" BIGINT NOT NULL,
    "taker_order_id" BIGINT NOT NULL,
    "maker_account_id" BIGINT NOT NULL,
    "taker_account_id" BIGINT NOT NULL,

    CONSTRAINT "market_trades_pkey" PRIMARY KEY ("market_id","seq")
);

-- CreateTable
CREATE TABLE "market_candles" (
    "market_id" INTEGER NOT NULL,
    "start" BIGINT NOT NULL,
    "open_ticks" BIGINT NOT NULL,
    "high_ticks" BIGINT NOT NULL,
    "low_ticks" BIGINT NOT NULL,
    "close_ticks" BIGINT NOT NULL,
    "volume_lots" BIGINT NOT NULL,
    "trades" INTEGER NOT NULL,
    "last_seq" BIGINT NOT NULL,

    CONSTRAINT "market_candles_pkey" PRIMARY KEY ("market_id","start")
);

-- CreateTable
CREATE TABLE "account_ids" (
    "account_id" BIGINT NOT NULL,
    "address" VARCHAR(42) NOT NULL,

    CONSTRAINT "account_ids_pkey" PRIMARY KEY ("account_id")
);

-- CreateTable
CREATE TABLE "projector_markets" (
    "market_id" INTEGER NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "last_ts" BIGINT NOT NULL,

    CONSTRAINT "projector_markets_pkey" PRIMARY KEY ("market_id")
);

-- CreateTable
CREATE TABLE "projector_offsets" (
    "topic" VARCHAR(249) NOT NULL,
    "partition" INTEGER NOT NULL,
    "next" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projector_offsets_pkey" PRIMARY KEY ("topic","partition")
);

-- CreateIndex
CREATE INDEX "market_orders_account_id_updated_ts_idx" ON "market_orders"("account_id", "updated_ts" DESC);

-- CreateIndex
CREATE INDEX "market_orders_account_id_status_idx" ON "market_orders"("account_id", "status");

-- CreateIndex
CREATE INDEX "market_trades_maker_account_id_ts_idx" ON "market_trades"("maker_account_id", "ts" DESC);

-- CreateIndex
CREATE INDEX "market_trades_taker_account_id_ts_idx" ON "market_trades"("taker_account_id", "ts" DESC);

-- CreateIndex
CREATE INDEX "account_ids_address_idx" ON "account_ids"("address");


-- projector_shards: the engine snapshot is stored every N journal entries, with the position it was taken at
-- (until now it was stored with every batch: the snapshot position is the row's position).
ALTER TABLE "projector_shards" ADD COLUMN "snapshot_journal_next" BIGINT,
ADD COLUMN "snapshot_journal_seq" BIGINT,
ADD COLUMN "snapshot_requests_next" BIGINT,
ADD COLUMN "snapshot_chain_events_next" BIGINT,
ADD COLUMN "snapshot_account_events_next" BIGINT;
UPDATE "projector_shards" SET "snapshot_journal_next" = "journal_next", "snapshot_journal_seq" = "journal_seq",
  "snapshot_requests_next" = "requests_next", "snapshot_chain_events_next" = "chain_events_next",
  "snapshot_account_events_next" = "account_events_next";
ALTER TABLE "projector_shards" ALTER COLUMN "snapshot_journal_next" SET NOT NULL,
ALTER COLUMN "snapshot_journal_seq" SET NOT NULL,
ALTER COLUMN "snapshot_requests_next" SET NOT NULL,
ALTER COLUMN "snapshot_chain_events_next" SET NOT NULL,
ALTER COLUMN "snapshot_account_events_next" SET NOT NULL;
