"""eventInvite (event staff, admins): invite members to an event (what an invitation-only event checks)."""
from __future__ import annotations

from typing import Annotated

import strawberry

from domain import bounds
from domain.errors import ErrorCode, UserError
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.scalars import RefArg, bounded_arg
from resolvers.vip_events.types import IsEventStaff, VipEvent

MAX_INVITES = 200
MemberRefs = Annotated[list[strawberry.ID], bounded_arg(bounds.REFERENCE)]


@strawberry.type(description="How many members were invited.")
class EventInvitePayload:
    invited: int = 0
    event_key: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The event (one read when selected).")
    def vip_event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.event_key) if self.event_key else None


@payload_errors(EventInvitePayload)
def event_invite(info: Info, event_id: RefArg, member_ids: MemberRefs) -> EventInvitePayload:
    ctx = info.context
    key = key_for(str(event_id), "VipEvent", "eventId")
    if not member_ids or len(member_ids) > MAX_INVITES:
        raise UserError(ErrorCode.OUT_OF_RANGE, f"Invite 1 to {MAX_INVITES} members at once.", "memberIds")
    members = [key_for(str(m), "Member", f"memberIds.{i}") for i, m in enumerate(member_ids)]
    invited = ctx.vip_registrations.invite(key, members, ctx.actor, ctx.now())
    return EventInvitePayload(invited=invited, event_key=key)


field = strawberry.mutation(resolver=event_invite, permission_classes=[IsEventStaff],
                            description=f"Event staff, admins: invite up to {MAX_INVITES} members to an event; each "
                                        f"is told (`vip_event.invited`). Audited. An invitation-only event registers "
                                        f"only invited members.")
