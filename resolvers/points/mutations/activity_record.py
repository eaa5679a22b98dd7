"""activityRecord (order system or staff): points for an action, once per reference."""
from __future__ import annotations

import strawberry

from resolvers.scalars import ActionArg, KeyArg, RefArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsStaffOrService


@strawberry.type(description="The points credited, and the member (for callers who may read members: staff).")
class ActivityRecordPayload(ChangedMember):
    points: int = 0
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(ActivityRecordPayload)
def activity_record(info: Info, member_id: RefArg, action: ActionArg, reference: KeyArg) -> ActivityRecordPayload:
    ctx = info.context
    member = key_for(str(member_id), "Member", "memberId")
    points = ctx.action_credits.record(member, action, reference, ctx.now())
    return ActivityRecordPayload(points=points, changed_member=member)


field = strawberry.mutation(resolver=activity_record, permission_classes=[IsStaffOrService],
                            description="Credit an action (review written, custom activity) by its earn rule.")
