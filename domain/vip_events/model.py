"""What a VIP event is and the states a registration moves through. The rules that decide who may
register and what a cancellation refunds live beside this (eligibility.py, policy.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class EventStatus(Enum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"


class OfferMode(Enum):
    """What a seat freed for the head of the waitlist becomes."""

    CONFIRM = "CONFIRM"  # confirmed at once, the points cost charged then
    HOLD = "HOLD"  # held for the member to accept within `offer_hold_hours`, then passed on


class RegistrationState(Enum):
    WAITLISTED = "WAITLISTED"
    OFFERED = "OFFERED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    ATTENDED = "ATTENDED"
    NO_SHOW = "NO_SHOW"


# Every transition a registration may make; each is written conditioned on the state it leaves.
TRANSITIONS: dict[RegistrationState, frozenset[RegistrationState]] = {
    RegistrationState.WAITLISTED: frozenset({RegistrationState.OFFERED, RegistrationState.CONFIRMED,
                                             RegistrationState.CANCELLED}),
    RegistrationState.OFFERED: frozenset({RegistrationState.CONFIRMED, RegistrationState.CANCELLED}),
    RegistrationState.CONFIRMED: frozenset({RegistrationState.CANCELLED, RegistrationState.ATTENDED,
                                            RegistrationState.NO_SHOW}),
    RegistrationState.CANCELLED: frozenset(),
    RegistrationState.ATTENDED: frozenset(),
    RegistrationState.NO_SHOW: frozenset(),
}


def may_move(src: RegistrationState, dst: RegistrationState) -> bool:
    return dst in TRANSITIONS[src]


@dataclass(frozen=True)
class CancellationPolicy:
    """Copied onto each registration when it is made: a later edit does not change what was promised.
    A member's cancellation up to `refund_until_hours` before the start refunds `refund_percent` of
    the points paid; later, nothing. Never a refund after check-in."""

    refund_until_hours: int = 24
    refund_percent: int = 100

    def to_dict(self) -> dict:
        return {"refundUntilHours": self.refund_until_hours, "refundPercent": self.refund_percent}

    @classmethod
    def from_dict(cls, d: dict | None) -> "CancellationPolicy":
        d = d or {}
        return cls(int(d.get("refundUntilHours", 24)), int(d.get("refundPercent", 100)))


@dataclass(frozen=True)
class VipEvent:
    event_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    description: str = ""
    venue: str | None = None
    online_url: str | None = None
    registration_opens_at: datetime | None = None  # None: open from creation
    registration_closes_at: datetime | None = None  # None: until the start
    min_tier_rank: int | None = None  # None: no tier gate
    invited_only: bool = False  # only members on the event's invitation list
    points_cost: int = 0
    attendance_points: int = 0
    badge_id: str | None = None  # awarded on check-in
    cancellation: CancellationPolicy = field(default_factory=CancellationPolicy)
    offer_mode: OfferMode = OfferMode.CONFIRM
    offer_hold_hours: int = 24
    public: bool = False  # shown in the public listing (no token)
    status: EventStatus = EventStatus.SCHEDULED
