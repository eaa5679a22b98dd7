"""leaderboardLeave: the signed-in member leaves every leaderboard at once."""
from __future__ import annotations

import strawberry

from infra.leaderboards import Leaderboards
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsMember


@strawberry.type(description="The member as they left: `leaderboardRank` is null on every board.")
class LeaderboardLeavePayload(ChangedMember):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(LeaderboardLeavePayload)
def leaderboard_leave(info: Info) -> LeaderboardLeavePayload:
    ctx = info.context
    member_id = ctx.principal.member_id
    Leaderboards(ctx.require_tenant()).leave(member_id, ctx.now(), ctx.programs.program().timezone)
    ctx.forget_member(member_id)
    return LeaderboardLeavePayload(changed_member=member_id)


field = strawberry.mutation(resolver=leaderboard_leave, permission_classes=[IsMember], description=(
    "Remove the signed-in member from every leaderboard, in one change, and forget the display name; points "
    "earned later do not bring them back. `leaderboardJoin` shows them again."))
