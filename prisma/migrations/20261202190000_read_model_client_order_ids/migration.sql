-- CreateTable
CREATE TABLE "market_client_order_ids" (
    "address" VARCHAR(42) NOT NULL,
    "market_id" INTEGER NOT NULL,
    "client_order_id" VARCHAR(36) NOT NULL,
    "order_id" BIGINT NOT NULL,

    CONSTRAINT "market_client_order_ids_pkey" PRIMARY KEY ("address","market_id","client_order_id")
);
