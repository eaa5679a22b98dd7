"""activityRecord (order system or staff): points for an action, once per reference."""
from __future__ import annotations

import strawberry

from resolvers.scalars import ActionArg, KeyArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.permissions import IsStaffOrService


@strawberry.type
class ActivityRecordPayload:
    points: int = 0
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(ActivityRecordPayload)
def activity_record(info: Info, member_id: strawberry.ID, action: ActionArg, reference: KeyArg) -> ActivityRecordPayload:
    ctx = info.context
    points = ctx.action_credits.record(str(member_id), action, reference, ctx.now())
    return ActivityRecordPayload(points=points)


field = strawberry.mutation(resolver=activity_record, permission_classes=[IsStaffOrService],
                            description="Credit an action (review written, custom activity) by its earn rule.")
