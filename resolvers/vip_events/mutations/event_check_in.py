"""eventCheckIn (event staff, admins): scan a ticket's code at the door. Checks the ticket in once (attendance
points, the event's badge, `vip_event.attended` for badges and challenges); the same scan id sent again gets
its first answer back; another scan of a used ticket answers ALREADY_CHECKED_IN with when and by whom."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain import bounds
from domain.errors import ErrorCode as DomainErrorCode
from domain.vip_events.checkin import CheckInAnswer, Outcome
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import read
from resolvers.payloads import ChangedMember
from resolvers.scalars import bounded_arg
from resolvers.vip_events.tickets import SEPARATOR, EventTicket
from resolvers.vip_events.types import IsEventStaff

CheckInOutcome = strawberry.enum(Outcome, name="CheckInOutcome",
                                 description="CHECKED_IN: this scan let the member in; ALREADY_CHECKED_IN: the ticket "
                                             "was used before (see when and by whom).")


@strawberry.type(description="What a scan found. An embedded value of its payload.")
class CheckIn:
    outcome: CheckInOutcome  # type: ignore[valid-type]
    event_id: strawberry.ID
    member_id: strawberry.ID
    checked_in_at: datetime = strawberry.field(description="When the ticket was checked in (by the first scan).")
    checked_in_by: str = strawberry.field(description="Who checked it in (the staff member of the first scan).")
    points_credited: int = strawberry.field(description="Attendance points (and the badge's bonus) this scan credited.")
    badge_id: str | None = strawberry.field(description="The event's badge, when this scan awarded it.")
    replayed: bool = strawberry.field(description="This scan id was answered before: the same answer, nothing done again.")

    @classmethod
    def of(cls, a: CheckInAnswer, replayed: bool) -> "CheckIn":
        return cls(outcome=a.outcome, event_id=strawberry.ID(a.event_id), member_id=strawberry.ID(a.member_id),
                   checked_in_at=a.checked_in_at, checked_in_by=a.checked_in_by,
                   points_credited=a.points if a.outcome is Outcome.CHECKED_IN else 0, badge_id=a.badge_id,
                   replayed=replayed)


@strawberry.type(description="The scan's answer, the ticket and the member as the check-in left them.")
class EventCheckInPayload(ChangedMember):
    check_in: CheckIn | None = None
    ticket_key: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The ticket (read after the scan, when selected).")
    def ticket(self, info: Info) -> EventTicket | None:
        return read(info, EventTicket, self.ticket_key) if self.ticket_key else None


TicketCodeArg = Annotated[str, bounded_arg(bounds.TICKET_CODE)]
ScanIdArg = Annotated[str, bounded_arg(bounds.IDENTIFIER, description=(
    "The scanner's own id for this scan: send the same id again to get the same answer (a retry); a new scan "
    "takes a new id."))]


@payload_errors(EventCheckInPayload)
def event_check_in(info: Info, code: TicketCodeArg,
                   scan_id: ScanIdArg) -> EventCheckInPayload:
    ctx = info.context
    done = ctx.vip_check_ins.check_in(code, scan_id, ctx.principal.subject, ctx.actor, ctx.now())
    a = done.answer
    errors = []
    if a.outcome is Outcome.ALREADY_CHECKED_IN:
        errors.append(UserErrorType(field="code", code=DomainErrorCode.ALREADY_CHECKED_IN,
                                    message=f"Already checked in at {a.checked_in_at.isoformat()} by {a.checked_in_by}."))
    return EventCheckInPayload(check_in=CheckIn.of(a, done.replayed), changed_member=a.member_id,
                               ticket_key=f"{a.event_id}{SEPARATOR}{a.member_id}", user_errors=errors)


field = strawberry.mutation(
    resolver=event_check_in, permission_classes=[IsEventStaff],
    description="Event staff and admins: check a ticket in by the code its QR code carries. Once per ticket: "
                "attendance points and the event's badge are credited by the first scan only. A used ticket "
                "answers ALREADY_CHECKED_IN (with `checkIn` saying when and by whom); your own ticket: "
                "SELF_CHECK_IN; an unknown code: NOT_FOUND (nothing written).")
