"""Points: balances and history, program configuration, orders and returns, rewards and coupons."""
