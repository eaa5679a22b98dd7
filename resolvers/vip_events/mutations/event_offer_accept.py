"""eventOfferAccept (member): take the seat offered from the waitlist, within its hold; charged now."""
from __future__ import annotations

import strawberry

from infra.vip_events.offers import accept
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsMember
from resolvers.scalars import RefArg
from resolvers.vip_events.mutations.event_register import registration_of
from resolvers.vip_events.types import VipEvent, VipRegistration


@strawberry.type(description="The confirmed registration, the event and the member after the charge.")
class EventOfferAcceptPayload(ChangedMember):
    event_key: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The event as the acceptance left it (one read when selected).")
    def vip_event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.event_key) if self.event_key else None

    @strawberry.field(description="The registration as stored now (CONFIRMED).")
    def registration(self, info: Info) -> VipRegistration | None:
        return registration_of(info, self.event_key, self.changed_member)


@payload_errors(EventOfferAcceptPayload)
def event_offer_accept(info: Info, event_id: RefArg) -> EventOfferAcceptPayload:
    ctx = info.context
    key = key_for(str(event_id), "VipEvent", "eventId")
    member = ctx.principal.subject
    assert member is not None
    accept(ctx.vip_registrations, member, key, ctx.now())
    return EventOfferAcceptPayload(event_key=key, changed_member=member)


field = strawberry.mutation(resolver=event_offer_accept, permission_classes=[IsMember],
                            description="Member: accept the seat offered to you from the waitlist before "
                                        "`offerExpiresAt`; the points cost is charged now. After the hold the seat "
                                        "passes to the next member (OFFER_EXPIRED).")
