"""leaderboardJoin: the signed-in member shows on the leaderboards under a display name (or changes it)."""
from __future__ import annotations

import strawberry

from infra.leaderboards import Leaderboards
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.leaderboards.types import DisplayNameArg
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsMember


@strawberry.type(description="The member as joined: `member { leaderboardRank(period: ALL_TIME) { rank } }` shows "
                             "where they stand at once.")
class LeaderboardJoinPayload(ChangedMember):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(LeaderboardJoinPayload)
def leaderboard_join(info: Info, display_name: DisplayNameArg) -> LeaderboardJoinPayload:
    ctx = info.context
    member_id = ctx.principal.member_id
    Leaderboards(ctx.require_tenant()).join(member_id, display_name, ctx.now(), ctx.programs.program().timezone)
    ctx.forget_member(member_id)
    return LeaderboardJoinPayload(changed_member=member_id)


field = strawberry.mutation(resolver=leaderboard_join, permission_classes=[IsMember], description=(
    "Show the signed-in member on every leaderboard under `displayName` (the only thing boards show of them), "
    "with the qualifying points they already have. Again with another name: the name changes everywhere."))
