"""Who may register for a VIP event now, and why not.

The same rules decide the listing's `eligibility { eligible reason }` and the registration's
conditions: the window (a tier with EARLY_ACCESS opens it `hours` earlier), the tier gate (minimum
rank), invitations, the no-show block and seats. A full event is still eligible: the registration
joins the waitlist (reason FULL).

The tier a registration is judged by is the member's announced tier (`tierAnnounced`, the tier the
history last recorded): the registration conditions on it in the profile, since the tier itself is
computed and a condition can only name a stored value. A credit that moves a member up is announced
by the tiers listener moments later; until then the member registers with the tier before."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.tiers.ladder import Ladder, Tier
from domain.vip_events.definition import closes_at
from domain.vip_events.model import EventStatus, RegistrationState, VipEvent


class Reason(Enum):
    TIER_REQUIRED = "TIER_REQUIRED"
    NOT_INVITED = "NOT_INVITED"
    NOT_OPEN_YET = "NOT_OPEN_YET"
    CLOSED = "CLOSED"
    FULL = "FULL"  # still eligible: a registration joins the waitlist
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    NO_SHOW_LIMIT = "NO_SHOW_LIMIT"
    CANCELLED = "CANCELLED"


# A registration in one of these states holds the member's place; a cancelled one may be replaced.
HOLDING = frozenset({RegistrationState.WAITLISTED, RegistrationState.OFFERED, RegistrationState.CONFIRMED,
                     RegistrationState.ATTENDED, RegistrationState.NO_SHOW})


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reason: Reason | None = None


def opens_for(e: VipEvent, early_hours: int) -> datetime | None:
    """When registration opens for a member whose tier gives `early_hours` of early access."""
    if e.registration_opens_at is None:
        return None
    return e.registration_opens_at - timedelta(hours=early_hours)


def meets_gate(e: VipEvent, tier: Tier | None) -> bool:
    return e.min_tier_rank is None or (tier is not None and tier.rank >= e.min_tier_rank)


def allowed_tiers(e: VipEvent, ladder: Ladder | None, now: datetime) -> frozenset[str] | None:
    """The tier ids a registration at `now` must hold (None: any member, whatever their tier): those
    meeting the gate and, before registration opens, those whose early access has begun. An empty
    set: no tier may register now."""
    early = e.registration_opens_at is not None and now < e.registration_opens_at
    if e.min_tier_rank is None and not early:
        return None
    if ladder is None:
        return frozenset()
    return frozenset(t.id for t in ladder.tiers if meets_gate(e, t) and (
        not early or (opens_for(e, t.early_access_hours()) or now) <= now))


def window_reason(e: VipEvent, now: datetime, early_hours: int = 0) -> Reason | None:
    if now >= closes_at(e):
        return Reason.CLOSED
    opens = opens_for(e, early_hours)
    if opens is not None and now < opens:
        return Reason.NOT_OPEN_YET
    return None


def eligibility(e: VipEvent, now: datetime, *, tier: Tier | None, invited: bool,
                registration: RegistrationState | None, blocked_until: datetime | None, seats_left: int,
                waitlisted: int = 0) -> Eligibility:
    """The first reason in the order a member can act on it; eligible with FULL when only the waitlist
    is left."""
    if e.status is EventStatus.CANCELLED:
        return Eligibility(False, Reason.CANCELLED)
    if registration in HOLDING:
        return Eligibility(False, Reason.ALREADY_REGISTERED)
    if now >= closes_at(e):
        return Eligibility(False, Reason.CLOSED)
    if not meets_gate(e, tier):
        return Eligibility(False, Reason.TIER_REQUIRED)
    if e.invited_only and not invited:
        return Eligibility(False, Reason.NOT_INVITED)
    if blocked_until is not None and now < blocked_until:
        return Eligibility(False, Reason.NO_SHOW_LIMIT)
    if window_reason(e, now, tier.early_access_hours() if tier else 0) is Reason.NOT_OPEN_YET:
        return Eligibility(False, Reason.NOT_OPEN_YET)
    if seats_left <= 0 or waitlisted > 0:
        return Eligibility(True, Reason.FULL)
    return Eligibility(True)
