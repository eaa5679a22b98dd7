"""GraphQL shapes of VIP events: the event (a Node), its eligibility for the caller and their registration.

Who sees what: members and staff see every upcoming event (with `eligibility` and `myRegistration` for a
member); a caller without a token sees only the events the brand marks `public`, without eligibility. A
screen of events costs one BatchGetItem (infra/vip_events/catalog.py `screen`), whatever it selects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry

from domain.access import Kind, Role
from domain.vip_events import eligibility as rules
from domain.vip_events.model import EventStatus as EventStatusRule
from domain.vip_events.model import OfferMode as OfferModeRule
from domain.vip_events.model import RegistrationState as RegistrationStateRule
from domain.vip_events.model import VipEvent as VipEventRule
from infra.pages import Page, list_page
from infra.vip_events import catalog as catalogs
from infra.vip_events.catalog import Listed, Screen, event_of
from infra.vip_events.items import RegistrationItem, VipEventItem
from resolvers.nodes import Node, node_type, read
from resolvers.pagination import Connection, connection, page_size
from resolvers.permissions import Requires
from resolvers.shapes import change

EMBEDDED = "An embedded value of its parent: it has no id and is always answered whole with the parent."
MAX_EVENTS_PAGE = 30  # a page's screen (events, registrations, invitations, profile) stays one BatchGetItem

EventStatus = strawberry.enum(EventStatusRule, description="SCHEDULED, or CANCELLED by staff (its refunds follow).")
OfferMode = strawberry.enum(OfferModeRule, description="What a seat freed for the head of the waitlist becomes: "
                                                      "CONFIRM (confirmed and charged at once) or HOLD (offered "
                                                      "for `offerHoldHours`, charged when accepted).")
RegistrationState = strawberry.enum(RegistrationStateRule, description="Where a registration stands.")
EligibilityReason = strawberry.enum(rules.Reason, description="Why a member may not register now (FULL: they may, "
                                                             "onto the waitlist).")


class IsEventStaff(Requires):
    """Event staff (Role.EVENT_STAFF) and admins."""

    def allowed(self, principal: Any) -> bool:
        return principal.is_staff(Role.EVENT_STAFF)


@strawberry.type(description=f"What a member's cancellation gets back: `refundPercent` of the points paid up to "
                             f"`refundUntilHours` before the start, nothing later, nothing after check-in. Copied onto "
                             f"each registration when it is made. {EMBEDDED}")
class VipCancellationPolicy:
    refund_until_hours: int
    refund_percent: int


@strawberry.type(description=f"Whether the signed-in member may register now, and if not why. {EMBEDDED}")
class VipEventEligibility:
    eligible: bool
    reason: EligibilityReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Null when a seat can be had now; FULL when registering joins the waitlist.")


@strawberry.type(description=f"The signed-in member's registration for an event. {EMBEDDED}")
class VipRegistration:
    state: RegistrationState  # type: ignore[valid-type]
    points_paid: int
    registered_at: datetime
    waitlist_number: int | None = strawberry.field(description="While waitlisted: the place in join order the "
                                                               "member was given (1 is the first to join).")
    offer_expires_at: datetime | None = strawberry.field(description="While OFFERED: accept before then.")
    reason: str | None = strawberry.field(description="Why it was cancelled (TIER_REQUIRED, INSUFFICIENT_POINTS, "
                                                      "OFFER_EXPIRED, ...).")

    @classmethod
    def of(cls, r: RegistrationItem | None) -> "VipRegistration | None":
        if r is None:
            return None
        return cls(state=RegistrationStateRule(r.state), points_paid=int(r.points_paid),
                   registered_at=datetime.fromisoformat(r.registered_at),
                   waitlist_number=int(r.seq) if r.seq is not None and r.state == "WAITLISTED" else None,
                   offer_expires_at=datetime.fromisoformat(r.offer_expires_at)
                   if r.offer_expires_at and r.state == "OFFERED" else None,
                   reason=r.reason if r.state == "CANCELLED" else None)


@dataclass
class Seen:
    """What the screen's read said of one event, for the caller."""

    item: VipEventItem | None = None
    registration: RegistrationItem | None = None
    eligibility: rules.Eligibility | None = None


def _caller_member(info: Any) -> str | None:
    principal = info.context.principal
    return principal.subject if principal.kind is Kind.MEMBER else None


def may_see(info: Any, e: VipEventRule) -> bool:
    principal = info.context.principal
    return principal.kind is Kind.MEMBER or principal.is_staff() or e.public


def _load(info: Any, key: str) -> "VipEvent | None":
    listed = catalogs.EventCatalog(info.context.require_tenant(), info.context.programs).known(key, info.context.now())
    if listed is None:
        return None
    views = screen_views(info, [listed])
    return views[0] if views else None


@strawberry.type(description="Where an event's cancellation stands. An embedded value of its payload and its event.")
class VipEventCancellation:
    event_id: strawberry.ID
    cancelled_at: datetime
    cancelled_by: str
    reason: str
    refunds_pending: bool = strawberry.field(
        description="True until every registration was ended and refunded (the `vip-cancellations` job finishes it).")
    registrations_ended: int = strawberry.field(description="Registrations ended so far.")
    points_refunded: int = strawberry.field(description="Points given back so far.")

    @classmethod
    def of(cls, item: VipEventItem, event_id: str) -> "VipEventCancellation":
        return cls(event_id=strawberry.ID(event_id), cancelled_at=datetime.fromisoformat(item.cancelled_at or ""),
                   cancelled_by=item.cancelled_by or "", reason=item.cancel_reason or "",
                   refunds_pending=bool(item.refunds_pending), registrations_ended=int(item.registrations_ended or 0),
                   points_refunded=int(item.points_refunded or 0))


@node_type(load=_load, may_read=lambda info, e: may_see(info, e.definition))
@strawberry.type(description="A VIP event: a venue or online link, a start and end, seats, and who may register "
                             "(minimum tier, invitations, a registration window that EARLY_ACCESS tiers enter "
                             "early). Times are instants; `startsAtLocal` is the start on the program's clock.")
class VipEvent(Node):
    definition: strawberry.Private[VipEventRule]
    seen: strawberry.Private[Seen]
    event_id: strawberry.ID = strawberry.field(description="The event's own id (a slug): what `vipEventSave` and "
                                                           "`eventRegister` take.")
    title: str
    description: str
    venue: str | None
    online_url: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    registration_opens_at: datetime | None = strawberry.field(description="Null: open from creation.")
    registration_closes_at: datetime | None = strawberry.field(description="Null: until the start.")
    min_tier_rank: int | None = strawberry.field(description="Only members of a tier of this rank or higher; null: "
                                                             "everyone.")
    invited_only: bool = strawberry.field(description="Only members staff invited (`eventInvite`).")
    points_cost: int = strawberry.field(description="Charged when a seat is confirmed; 0: free.")
    attendance_points: int = strawberry.field(description="Credited at check-in.")
    badge_id: str | None = strawberry.field(description="A badge awarded at check-in.")
    cancellation_policy: VipCancellationPolicy
    offer_mode: OfferMode  # type: ignore[valid-type]
    offer_hold_hours: int = strawberry.field(description="Under HOLD: how long an offered seat waits for its member.")
    public: bool = strawberry.field(description="Listed to callers without a token.")

    def node_key(self) -> str:
        return self.definition.event_id

    @strawberry.field(description="SCHEDULED or CANCELLED, as stored now.")
    def status(self) -> EventStatus:  # type: ignore[valid-type]
        item = self.seen.item
        return EventStatusRule(item.status) if item else self.definition.status

    @strawberry.field(description="Seats neither confirmed nor offered, as stored now; 0 when full.")
    def seats_left(self) -> int:
        item = self.seen.item
        if item is None:
            return self.definition.capacity
        return max(int(item.capacity) - int(item.taken), 0)

    @strawberry.field(description="Members waiting for a seat now.")
    def waitlisted(self) -> int:
        return int(self.seen.item.waitlisted) if self.seen.item else 0

    @strawberry.field(description="The start on the program's wall clock (its time zone), ISO 8601 with offset.")
    def starts_at_local(self, info: strawberry.Info) -> str:
        return info.context.programs.program().local_time(self.definition.starts_at).isoformat()

    @strawberry.field(description="For a signed-in member: whether they may register now, and why not; null for "
                                  "other callers.")
    def eligibility(self) -> VipEventEligibility | None:
        e = self.seen.eligibility
        return VipEventEligibility(eligible=e.eligible, reason=e.reason) if e else None

    @strawberry.field(description="Staff: where the event's cancellation stands (refunds still pending, registrations "
                                  "ended, points refunded, who, when, why); null while it is scheduled, and for others.")
    def cancellation(self, info: strawberry.Info) -> VipEventCancellation | None:
        item = self.seen.item
        if item is None or item.status != EventStatusRule.CANCELLED.value or not info.context.principal.is_staff():
            return None
        return VipEventCancellation.of(item, str(self.event_id))

    @strawberry.field(description="For a signed-in member: their registration (whatever its state); null when they "
                                  "have none, or for other callers.")
    def my_registration(self) -> VipRegistration | None:
        return VipRegistration.of(self.seen.registration)

    @classmethod
    def of(cls, e: VipEventRule, seen: Seen | None = None) -> "VipEvent":
        return cls(definition=e, seen=seen or Seen(), event_id=strawberry.ID(e.event_id), title=e.title,
                   description=e.description, venue=e.venue, online_url=e.online_url, starts_at=e.starts_at,
                   ends_at=e.ends_at, capacity=e.capacity, registration_opens_at=e.registration_opens_at,
                   registration_closes_at=e.registration_closes_at, min_tier_rank=e.min_tier_rank,
                   invited_only=e.invited_only, points_cost=e.points_cost, attendance_points=e.attendance_points,
                   badge_id=e.badge_id,
                   cancellation_policy=VipCancellationPolicy(refund_until_hours=e.cancellation.refund_until_hours,
                                                             refund_percent=e.cancellation.refund_percent),
                   offer_mode=e.offer_mode, offer_hold_hours=e.offer_hold_hours, public=e.public)


def describe_event(before: VipEventRule | None, after: VipEventRule) -> dict[str, Any]:
    return {"eventId": after.event_id, **change(VipEvent.of(before) if before else None, VipEvent.of(after))}


def screen_views(info: Any, listed: list[Listed]) -> list[VipEvent]:
    """The events of one screen as the caller sees them: one BatchGetItem for all of them."""
    ctx = info.context
    now = ctx.now()
    member = _caller_member(info)
    invited_only = {x.event.event_id for x in listed if x.event.invited_only}
    shown: Screen = catalogs.screen(ctx.require_tenant(), [x.event.event_id for x in listed], member, invited_only)
    program = ctx.programs.program()
    ladder = program.tiers.at(now)
    tier = None
    if shown.profile is not None and ladder is not None and shown.profile.tier_announced:
        tier = ladder.by_id(shown.profile.tier_announced)  # the tier registrations condition on
    blocked = shown.stats.blocked_until if shown.stats else None
    out = []
    for x in listed:
        item = shown.events.get(x.event.event_id)
        if item is None:
            continue  # gone since the list was cached
        event = event_of(item)
        if not may_see(info, event):
            continue
        reg = shown.registrations.get(event.event_id)
        seen = Seen(item=item, registration=reg)
        if member is not None and shown.profile is not None:
            seen.eligibility = rules.eligibility(
                event, now, tier=tier, invited=event.event_id in shown.invited,
                registration=RegistrationStateRule(reg.state) if reg else None,
                blocked_until=datetime.fromisoformat(blocked) if blocked else None,
                seats_left=int(item.capacity) - int(item.taken), waitlisted=int(item.waitlisted))
        out.append(VipEvent.of(event, seen))
    return out


def vip_events(info: Any, first: int | None, after: str | None) -> Connection[VipEvent]:
    """Upcoming events by start (then id), at most 30 a page."""
    ctx = info.context
    now = ctx.now()
    listed = catalogs.EventCatalog(ctx.require_tenant(), ctx.programs).listed(now)
    listed = [x for x in listed if may_see(info, x.event)]

    def fetch(size: int, start: dict | None) -> Page[VipEvent]:
        part = list_page(listed, lambda x: [x.event.starts_at.isoformat(), x.event.event_id], size, start)
        views = {v.definition.event_id: v for v in screen_views(info, [x for _, x in part.edges])}
        return Page(edges=[(key, views[x.event.event_id]) for key, x in part.edges if x.event.event_id in views],
                    has_next=part.has_next)

    return connection(info, min(page_size(first), MAX_EVENTS_PAGE), after, fetch, lambda v: v)


def vip_event(info: Any, event_id: str) -> VipEvent | None:
    return read(info, VipEvent, event_id)
