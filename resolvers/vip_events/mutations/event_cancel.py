"""vipEventCancel (event staff, admins; audited): cancel an event with a reason members are told. At once no
more registrations; then every confirmed, offered or waitlisted registration is ended, refunded in full and
its member notified (`vip_event.cancelled`), the first chunk in this request and the rest by the
`vip-cancellations` job, from where this stopped."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.scalars import RefArg, TextArg
from resolvers.vip_events.types import IsEventStaff, VipEvent, VipEventCancellation


@strawberry.type(description="The cancellation as this request left it, and the event.")
class VipEventCancelPayload:
    cancellation: VipEventCancellation | None = None
    event_key: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The event (status CANCELLED), read after the change when selected.")
    def event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.event_key) if self.event_key else None


@payload_errors(VipEventCancelPayload)
def vip_event_cancel(info: Info, event_id: RefArg, reason: TextArg) -> VipEventCancelPayload:
    ctx = info.context
    event = key_for(str(event_id), "VipEvent", "eventId")
    now = ctx.now()
    ctx.vip_cancellations.cancel(event, reason, ctx.actor, now)
    jobs = ctx.vip_event_jobs
    jobs.refund_chunk(event, now)
    item = jobs.event_item(event)
    return VipEventCancelPayload(cancellation=VipEventCancellation.of(item, event), event_key=event)


field = strawberry.mutation(
    resolver=vip_event_cancel, permission_classes=[IsEventStaff],
    description="Event staff and admins: cancel an event (`reason` is told to members and audited). Registrations "
                "stop at once; every paid seat is refunded in full and each member notified, the first few here and "
                "the rest within minutes (`refundsPending` says until when). A cancelled event: ALREADY_CANCELLED.")
