"""GraphQL of badges: the catalog, a member's badges and streaks, badgeSave."""
