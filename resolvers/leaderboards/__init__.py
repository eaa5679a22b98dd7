"""GraphQL of the leaderboards: the public boards, my rank, joining and leaving."""
