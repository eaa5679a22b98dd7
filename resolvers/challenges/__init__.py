"""GraphQL of challenges: the catalog, a member's challenges, challengeSave and challengeJoin."""
