"""pointsAdjust (admin): add or remove points with a required reason; lands in the audit trail."""
from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.scalars import RefArg, TextArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsAdmin


@strawberry.type(description="The member with their new points.")
class PointsAdjustPayload(ChangedMember):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(PointsAdjustPayload)
def points_adjust(info: Info, member_id: RefArg, points: int, reason: TextArg,
                  qualifying: Annotated[bool, strawberry.argument(
                      description="Counts toward tier qualification and leaderboards this month (default: no).")]
                  = False) -> PointsAdjustPayload:
    ctx = info.context
    member = key_for(str(member_id), "Member", "memberId")
    ctx.adjustments.adjust(member, points, reason, ctx.actor, ctx.now(), qualifying=qualifying)
    return PointsAdjustPayload(changed_member=member)


field = strawberry.mutation(resolver=points_adjust, permission_classes=[IsAdmin],
                            description="Admin: adjust a member's points (`memberId`: their `id` or own id), up or "
                                        "down, with a reason.")
