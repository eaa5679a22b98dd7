"""eventRegister (member): a seat (CONFIRMED, the points cost charged in the same transaction) or, when the
event is full, a place on the waitlist (WAITLISTED, in the order registrations were accepted)."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsMember
from resolvers.scalars import RefArg
from resolvers.vip_events.types import RegistrationState, VipEvent, VipRegistration


@strawberry.type(description="The registration's outcome, the event (seats left) and the member (points) after it.")
class EventRegisterPayload(ChangedMember):
    state: RegistrationState | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="CONFIRMED (charged now) or WAITLISTED; null when refused (see userErrors).")
    event_key: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The event as the registration left it (one read when selected).")
    def vip_event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.event_key) if self.event_key else None

    @strawberry.field(description="The member's registration as stored now.")
    def registration(self, info: Info) -> VipRegistration | None:
        return registration_of(info, self.event_key, self.changed_member)


def registration_of(info: Info, event_key: str | None, member_id: str | None) -> VipRegistration | None:
    """The member's registration read after the change (one GetItem), when selected."""
    if event_key is None or member_id is None:
        return None
    return VipRegistration.of(info.context.vip_registrations.registration(event_key, member_id))


@payload_errors(EventRegisterPayload)
def event_register(info: Info, event_id: RefArg) -> EventRegisterPayload:
    ctx = info.context
    key = key_for(str(event_id), "VipEvent", "eventId")
    member = ctx.principal.subject
    assert member is not None
    done = ctx.vip_registrations.register(member, key, ctx.now())
    return EventRegisterPayload(state=done.state, event_key=key, changed_member=member)


field = strawberry.mutation(resolver=event_register, permission_classes=[IsMember],
                            description="Member: register for a VIP event. CONFIRMED takes a seat and charges its "
                                        "points cost at once; WAITLISTED when it is full (a freed seat goes to the "
                                        "waitlist in join order). Refused with a typed error when the window is not "
                                        "open (EARLY_ACCESS tiers enter earlier), the tier is below the gate, the "
                                        "event is by invitation, missed events block it, or points are short.")
