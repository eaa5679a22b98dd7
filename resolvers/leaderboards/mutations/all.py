"""All leaderboard mutations as one type for the schema."""
import strawberry

from resolvers.leaderboards.mutations import leaderboard_join, leaderboard_leave


@strawberry.type
class LeaderboardMutations:
    leaderboard_join = leaderboard_join.field
    leaderboard_leave = leaderboard_leave.field
