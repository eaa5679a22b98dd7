"""pointsAdjust (admin): add or remove points with a required reason; lands in the audit trail."""
from __future__ import annotations

import strawberry

from resolvers.scalars import TextArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.members.queries import load_member
from resolvers.members.types import Member
from resolvers.permissions import IsAdmin


@strawberry.type
class PointsAdjustPayload:
    member: Member | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(PointsAdjustPayload)
def points_adjust(info: Info, member_id: strawberry.ID, points: int, reason: TextArg) -> PointsAdjustPayload:
    ctx = info.context
    ctx.adjustments.adjust(str(member_id), points, reason, ctx.actor, ctx.now())
    ctx.forget_member(str(member_id))
    return PointsAdjustPayload(member=load_member(info, str(member_id)))


field = strawberry.mutation(resolver=points_adjust, permission_classes=[IsAdmin],
                            description="Admin: adjust a member's points, up or down, with a reason.")
