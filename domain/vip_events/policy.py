"""What a registration gets back when it ends without the member attending, and what a no-show costs.

The cancellation policy is the one copied onto the registration when it was made (model.CancellationPolicy):
an edit of the event later changes nothing of what was promised. Never a refund after check-in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.vip_events.model import CancellationPolicy, RegistrationState
from domain.vip_events.settings import VipEventSettings

# Registrations an event's cancellation ends (each refunded its `pointsPaid` in full and told).
ENDED_BY_EVENT_CANCELLATION = frozenset({RegistrationState.CONFIRMED, RegistrationState.OFFERED,
                                         RegistrationState.WAITLISTED})


def refund_deadline(policy: CancellationPolicy, starts_at: datetime) -> datetime:
    """Until when a member's own cancellation is refunded."""
    return starts_at - timedelta(hours=policy.refund_until_hours)


def member_cancellation_refund(policy: CancellationPolicy, points_paid: int, starts_at: datetime,
                               now: datetime, state: RegistrationState) -> int:
    """Points back when the member (or staff for them) cancels: `refund_percent` of what was paid up to
    the deadline (rounded down), nothing after it, nothing once checked in (ATTENDED) or marked a no-show."""
    if points_paid <= 0 or state in (RegistrationState.ATTENDED, RegistrationState.NO_SHOW):
        return 0
    if now > refund_deadline(policy, starts_at):
        return 0
    return points_paid * max(0, min(policy.refund_percent, 100)) // 100


def event_cancellation_refund(points_paid: int, state: RegistrationState) -> int:
    """A cancelled event gives back everything paid, to every registration it ends."""
    return max(points_paid, 0) if state in ENDED_BY_EVENT_CANCELLATION else 0


@dataclass(frozen=True)
class NoShowOutcome:
    refund: int  # points given back (0 when the program forfeits them)
    times: tuple[str, ...]  # the member's no-shows within the window, this one included (ISO, oldest first)
    blocked_until: datetime | None  # set when this no-show reaches the limit; else None (an earlier block stays)


def no_show(settings: VipEventSettings, points_paid: int, earlier: list[str], now: datetime) -> NoShowOutcome:
    """A confirmed member never checked in. `earlier`: their no-shows as VIPSTATS keeps them."""
    refund = 0 if settings.forfeit_no_show_points else max(points_paid, 0)
    since = now - timedelta(days=settings.no_show_window_days)
    recent = [t for t in earlier if datetime.fromisoformat(t) > since]
    recent.append(now.isoformat())
    blocked = None
    limit = settings.no_show_limit
    if limit is not None:
        recent = recent[-limit:]  # only the last `limit` can ever matter
        if len(recent) >= limit:
            blocked = now + timedelta(days=settings.no_show_block_days)
    else:
        recent = recent[-1:]
    return NoShowOutcome(refund, tuple(recent), blocked)
