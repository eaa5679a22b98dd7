"""GraphQL of tiers: the ladder, a member's tier, staff settings."""
