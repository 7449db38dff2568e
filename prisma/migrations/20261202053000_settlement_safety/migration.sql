-- AlterTable
ALTER TABLE "settlement_fills" ADD COLUMN     "maker_account_id" BIGINT,
ADD COLUMN     "taker_account_id" BIGINT;

-- DropForeignKey
ALTER TABLE "settlement_txs" DROP CONSTRAINT "settlement_txs_batch_id_fkey";

-- AlterTable
ALTER TABLE "settlement_txs" ADD COLUMN     "retired_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "settlement_market_cursors" (
    "market_id" INTEGER NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlement_market_cursors_pkey" PRIMARY KEY ("market_id")
);
