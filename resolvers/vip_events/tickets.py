"""A member's tickets (`me.eventTickets`): their registrations, each with its state, the check-in code of
a confirmed seat (what the QR code on the ticket carries) and a waitlist position.

Who reads what: a member their own tickets, codes included; staff any member's tickets, never a code
(a code lets whoever holds it into the event); nobody else, and `node(id:)` answers null for a ticket the
caller may not read exactly as for one that does not exist. One Query of GSI1 `T#t#M#<m>#TICKETS` per
page (a member's registrations by event start); a waitlist position costs one COUNT Query when selected."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.access import Kind
from domain.vip_events.model import RegistrationState
from infra import keys
from infra.dynamo_errors import call
from infra.items import TableItem
from infra.pages import Page, page, start_key
from infra.vip_events.catalog import EventCatalog
from infra.vip_events.items import RegistrationItem
from resolvers.context import Info
from resolvers.nodes import Node, node_type, plain_key, read
from resolvers.pagination import Connection, connection
from resolvers.vip_events.types import RegistrationState as RegistrationStateType
from resolvers.vip_events.types import VipEvent

SEPARATOR = "|"  # a ticket's key: `<eventId>|<memberId>` (neither id carries it: see `_valid`)


def _parts(key: str) -> tuple[str, str] | None:
    event_id, sep, member_id = key.partition(SEPARATOR)
    if not sep or not event_id or not member_id or SEPARATOR in member_id:
        return None
    return event_id, member_id


def _valid(key: str) -> bool:
    parts = _parts(key)
    return parts is not None and plain_key(parts[0]) and plain_key(parts[1])


def _may_ask(info: Any, key: str) -> bool:
    parts = _parts(key)
    return parts is not None and info.context.principal.can_read_member(parts[1])


def _load(info: Any, key: str) -> "EventTicket | None":
    parts = _parts(key)
    if parts is None:
        return None
    event_id, member_id = parts
    tenant = info.context.require_tenant()

    def get() -> RegistrationItem | None:
        try:
            return RegistrationItem.get(keys.vip_event_pk(tenant, event_id), keys.registration_sk(member_id),
                                        consistent_read=True)
        except RegistrationItem.DoesNotExist:
            return None

    item = call(get, what="VIP ticket")
    return EventTicket.of(item) if item is not None else None


def _may_read(info: Any, ticket: "EventTicket") -> bool:
    return info.context.principal.can_read_member(ticket.registration.member_id)


@node_type(load=_load, may_ask=_may_ask, may_read=_may_read, valid_key=_valid)
@strawberry.type(description="A member's registration for a VIP event: their ticket. Only the member and staff read "
                             "it; only the member sees its code.")
class EventTicket(Node):
    registration: strawberry.Private[RegistrationItem]
    event_id: strawberry.ID = strawberry.field(description="The event's own id.")
    member_id: strawberry.ID
    state: RegistrationStateType  # type: ignore[valid-type]
    points_paid: int = strawberry.field(description="What the seat cost (0 while waitlisted or offered).")
    registered_at: datetime
    offer_expires_at: datetime | None = strawberry.field(
        description="OFFERED: accept (`eventOfferAccept`) before this, or the seat passes to the next in line.")
    checked_in_at: datetime | None
    points_refunded: int | None = strawberry.field(description="Given back when the registration ended, if it did.")
    reason: str | None = strawberry.field(description="Why it was cancelled (EVENT_CANCELLED, TIER_REQUIRED, ...).")

    def node_key(self) -> str:
        return f"{self.event_id}{SEPARATOR}{self.member_id}"

    @strawberry.field(description="CONFIRMED: the check-in code for the door (show it as a QR code); null in every "
                                  "other state and for anyone but the member.")
    def code(self, info: Info) -> str | None:
        principal = info.context.principal
        mine = principal.kind is Kind.MEMBER and principal.subject == self.registration.member_id
        if not mine or self.registration.state != RegistrationState.CONFIRMED.value:
            return None
        return self.registration.code

    @strawberry.field(description="When the event starts, as it is defined now (staff may move it after you "
                                  "registered); from the container's event list, so no read for a listed event.")
    def starts_at(self, info: Info) -> datetime | None:
        ctx = info.context
        listed = EventCatalog(ctx.require_tenant(), ctx.programs).known(self.registration.event_id, ctx.now())
        return listed.event.starts_at if listed else None

    @strawberry.field(description="The event, as the caller may see it (one read when selected).")
    def event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.registration.event_id)

    @strawberry.field(description="WAITLISTED: how many are ahead in line, plus one (1: next). Null otherwise.")
    def waitlist_position(self) -> int | None:
        reg = self.registration
        if reg.state != RegistrationState.WAITLISTED.value or reg.seq is None:
            return None
        connection_ = TableItem._get_connection().connection.client
        out = call(lambda: connection_.query(
            TableName=TableItem.Meta.table_name, Select="COUNT", ConsistentRead=True,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": {"S": reg.PK}, ":low": {"S": keys.WAITLIST_PREFIX},
                                       ":high": {"S": keys.waitlist_sk(int(reg.seq))}}), what="waitlist position")
        return max(int(out.get("Count", 0)), 1)

    @classmethod
    def of(cls, r: RegistrationItem) -> "EventTicket":
        def t(v: str | None) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        return cls(registration=r, event_id=strawberry.ID(r.event_id), member_id=strawberry.ID(r.member_id),
                   state=RegistrationState(r.state), points_paid=int(r.points_paid or 0),
                   registered_at=datetime.fromisoformat(r.registered_at), offer_expires_at=t(r.offer_expires_at),
                   checked_in_at=t(r.checked_in_at),
                   points_refunded=int(r.points_refunded) if r.points_refunded is not None else None, reason=r.reason)


def tickets_page(tenant: str, member_id: str, first: int, after: dict | None) -> Page:
    gsi_pk = keys.member_tickets_pk(tenant, member_id)
    start = start_key(after, gsi_pk, "GSI1PK")
    return call(lambda: page(RegistrationItem.lookup.query(gsi_pk, limit=first + 1, last_evaluated_key=start),
                             lambda r: r, ("PK", "SK", "GSI1PK", "GSI1SK"), first), what="VIP tickets")


def member_tickets(info: Any, member_id: str, first: int | None, after: str | None) -> Connection[EventTicket]:
    tenant = info.context.require_tenant()
    return connection(info, first, after, lambda size, start: tickets_page(tenant, member_id, size, start),
                      EventTicket.of, owner=member_id)
