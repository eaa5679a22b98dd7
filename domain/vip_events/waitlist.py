"""What a freed seat does for the head of the waitlist.

The waitlist is served in the order members joined it (`WAIT#<seq>`, the sequence the event item hands
out). The head takes the seat if it still qualifies: its tier still meets the gate and, when the seat
costs points, it has them (read from its profile; the charge conditions on them). Under OfferMode.CONFIRM
the seat is confirmed and charged at once; under HOLD it is offered until `offer_hold_hours` from now,
charged when accepted. A head that no longer qualifies is skipped: its registration is cancelled with the
reason, and the next is asked, until the seat is filled or the list is empty."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.tiers.ladder import Tier
from domain.vip_events.eligibility import meets_gate
from domain.vip_events.model import OfferMode, RegistrationState, VipEvent

TIER_REQUIRED = "TIER_REQUIRED"
INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
OFFER_EXPIRED = "OFFER_EXPIRED"


@dataclass(frozen=True)
class Promotion:
    state: RegistrationState  # CONFIRMED, OFFERED, or CANCELLED for a skipped head
    charge: int = 0  # points charged now (CONFIRMED only)
    offer_expires_at: datetime | None = None
    reason: str | None = None  # why a head was skipped

    @property
    def fills_seat(self) -> bool:
        return self.state is not RegistrationState.CANCELLED


def seats_promotable(e: VipEvent, now: datetime) -> bool:
    """Seats freed once the event has started stay free."""
    return now < e.starts_at


def promote(e: VipEvent, now: datetime, *, tier: Tier | None, available: int, ladder_present: bool = True) -> Promotion:
    if e.min_tier_rank is not None and (not ladder_present or not meets_gate(e, tier)):
        return Promotion(RegistrationState.CANCELLED, reason=TIER_REQUIRED)
    if e.points_cost > available:
        return Promotion(RegistrationState.CANCELLED, reason=INSUFFICIENT_POINTS)
    if e.offer_mode is OfferMode.HOLD:
        return Promotion(RegistrationState.OFFERED,
                         offer_expires_at=min(now + timedelta(hours=e.offer_hold_hours), e.starts_at))
    return Promotion(RegistrationState.CONFIRMED, charge=e.points_cost)
