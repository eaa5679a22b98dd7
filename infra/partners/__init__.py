"""Partner brands: outside companies that ask, with a member's consent, for that member's standing."""
