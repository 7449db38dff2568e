-- CreateEnum
CREATE TYPE "TransferKind" AS ENUM ('DEPOSIT', 'WITHDRAWAL_REQUESTED', 'WITHDRAWAL_CANCELLED', 'WITHDRAWAL_EXECUTED');

-- CreateTable
CREATE TABLE "projector_shards" (
    "shard" INTEGER NOT NULL,
    "shards" INTEGER NOT NULL,
    "journal_next" BIGINT NOT NULL,
    "journal_seq" BIGINT NOT NULL,
    "requests_next" BIGINT NOT NULL,
    "chain_events_next" BIGINT NOT NULL,
    "account_events_next" BIGINT NOT NULL,
    "state_hash" VARCHAR(64) NOT NULL,
    "state" BYTEA NOT NULL,

    CONSTRAINT "projector_shards_pkey" PRIMARY KEY ("shard")
);

-- CreateTable
CREATE TABLE "account_balances" (
    "account" VARCHAR(42) NOT NULL,
    "token" VARCHAR(42) NOT NULL,
    "shard" INTEGER NOT NULL,
    "onchain" DECIMAL(39,0) NOT NULL,
    "available" DECIMAL(39,0) NOT NULL,
    "held_orders" DECIMAL(39,0) NOT NULL,
    "held_withdrawals" DECIMAL(39,0) NOT NULL,
    "withdrawal_shortfall" DECIMAL(39,0) NOT NULL,
    "unsettled_in" DECIMAL(39,0) NOT NULL,
    "unsettled_out" DECIMAL(39,0) NOT NULL,
    "fees_owed" DECIMAL(39,0) NOT NULL,
    "journal_offset" BIGINT NOT NULL,
    "journal_seq" BIGINT NOT NULL,

    CONSTRAINT "account_balances_pkey" PRIMARY KEY ("account","token")
);

-- CreateTable
CREATE TABLE "account_transfers" (
    "shard" INTEGER NOT NULL,
    "input_offset" BIGINT NOT NULL,
    "event_index" INTEGER NOT NULL,
    "account" VARCHAR(42) NOT NULL,
    "token" VARCHAR(42) NOT NULL,
    "kind" "TransferKind" NOT NULL,
    "amount" DECIMAL(39,0) NOT NULL,
    "refused" VARCHAR(64),
    "logged_at" TIMESTAMPTZ(3) NOT NULL,
    "journal_offset" BIGINT NOT NULL,

    CONSTRAINT "account_transfers_pkey" PRIMARY KEY ("shard","input_offset","event_index")
);

-- CreateIndex
CREATE INDEX "account_balances_shard_idx" ON "account_balances"("shard");

-- CreateIndex
CREATE INDEX "account_transfers_account_input_offset_idx" ON "account_transfers"("account", "input_offset");


