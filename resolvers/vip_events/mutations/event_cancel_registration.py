"""eventCancelRegistration: a member cancels their own registration, or staff cancel one for a member with a
reason (audited). The refund follows the policy copied onto the registration; the freed seat goes to the head
of the waitlist in the same transaction."""
from __future__ import annotations

from typing import Annotated

import strawberry

from domain import bounds
from domain.access import Kind, Role
from domain.errors import ErrorCode, UserError
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.payloads import ChangedMember
from resolvers.permissions import Requires
from resolvers.scalars import OptionalTextArg, RefArg, bounded_arg
from resolvers.vip_events.mutations.event_register import registration_of
from resolvers.vip_events.types import VipEvent, VipRegistration

OptionalRefArg = Annotated[strawberry.ID | None, bounded_arg(bounds.REFERENCE)]


class IsMemberOrEventStaff(Requires):
    def allowed(self, principal) -> bool:  # type: ignore[no-untyped-def]
        return principal.kind is Kind.MEMBER or principal.is_staff(Role.EVENT_STAFF)


@strawberry.type(description="What the cancellation gave back and whom the seat went to.")
class EventCancelRegistrationPayload(ChangedMember):
    refunded: int = strawberry.field(default=0, description="Points given back under the registration's policy.")
    seat_passed_on: bool = strawberry.field(default=False, description="The freed seat went to a waitlisted member.")
    event_key: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The event as the cancellation left it (one read when selected).")
    def vip_event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.event_key) if self.event_key else None

    @strawberry.field(description="The cancelled registration as stored now.")
    def registration(self, info: Info) -> VipRegistration | None:
        return registration_of(info, self.event_key, self.changed_member)


@payload_errors(EventCancelRegistrationPayload)
def event_cancel_registration(info: Info, event_id: RefArg, member_id: OptionalRefArg = None,
                              reason: OptionalTextArg = None) -> EventCancelRegistrationPayload:
    ctx = info.context
    key = key_for(str(event_id), "VipEvent", "eventId")
    principal = ctx.principal
    if principal.kind is Kind.MEMBER:
        if member_id is not None and key_for(str(member_id), "Member", "memberId") != principal.subject:
            raise UserError(ErrorCode.FORBIDDEN, "Members cancel only their own registration.", "memberId")
        member, actor = principal.subject, None
    else:
        if member_id is None:
            raise UserError(ErrorCode.REQUIRED, "Name the member whose registration to cancel.", "memberId")
        if not (reason or "").strip():
            raise UserError(ErrorCode.REQUIRED, "Say why the registration is cancelled.", "reason")
        member, actor = key_for(str(member_id), "Member", "memberId"), ctx.actor
    assert member is not None
    done = ctx.vip_registrations.cancel(member, key, ctx.now(), actor=actor, reason=(reason or "").strip() or None)
    return EventCancelRegistrationPayload(refunded=done.refunded, seat_passed_on=bool(done.promoted), event_key=key,
                                          changed_member=member)


field = strawberry.mutation(resolver=event_cancel_registration, permission_classes=[IsMemberOrEventStaff],
                            description="Member: cancel your registration (confirmed, offered or waitlisted). Event "
                                        "staff and admins: cancel a member's, with `memberId` and a `reason` "
                                        "(audited). Refunds follow the policy copied onto the registration (nothing "
                                        "after its deadline or after check-in); the seat goes to the first eligible "
                                        "member on the waitlist in the same transaction.")
