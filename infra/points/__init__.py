"""Points storage: ledger entries, lots, orders, rewards, coupons and the transactions that move them."""
