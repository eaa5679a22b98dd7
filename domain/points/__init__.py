"""Points: program configuration, earning, holding, returns, redemption and expiry, as plain rules."""
