-- The risk engine's deficit per balance (what skipped fills took back beyond the account's free funds).
-- Rows written before it had none to show: 0.
ALTER TABLE "account_balances" ADD COLUMN "deficit" DECIMAL(39,0) NOT NULL DEFAULT 0;
