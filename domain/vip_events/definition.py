"""What staff may save as a VIP event: every problem at once, in GraphQL field names, and the one
stored shape of a definition (`to_dict` / `from_dict`, kept in the EVENT item's `definition`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import ErrorCode, UserError, collect
from domain.vip_events.model import CancellationPolicy, EventStatus, OfferMode, VipEvent

MAX_CAPACITY = 100_000
MAX_POINTS = 1_000_000
MAX_HOURS = 24 * 366  # refund deadlines and offer holds: at most a year
MAX_TITLE = 200
MAX_DAYS_LONG = 31  # an event lasts at most a month


def _range(value: int | None, low: int, high: int, field: str, what: str) -> UserError | None:
    if value is not None and not low <= value <= high:
        return UserError(ErrorCode.OUT_OF_RANGE, f"{what} is from {low:,} to {high:,}.", field)
    return None


def validate(e: VipEvent, *, tier_ranks: frozenset[int] | None = None, badge_exists: bool = True,
             taken: int = 0) -> VipEvent:
    """Every problem at once. `tier_ranks`: the ranks of the ladder in force (None: no ladder);
    `taken`: seats confirmed or offered now, below which the capacity may not go."""
    opens, closes = e.registration_opens_at, e.registration_closes_at
    collect(
        UserError(ErrorCode.REQUIRED, "An event needs a title.", "title") if not e.title.strip() else None,
        UserError(ErrorCode.TOO_LONG, f"A title is at most {MAX_TITLE} characters.", "title")
        if len(e.title) > MAX_TITLE else None,
        UserError(ErrorCode.INVALID, "An event ends after it starts.", "endsAt") if e.ends_at <= e.starts_at else None,
        UserError(ErrorCode.OUT_OF_RANGE, f"An event lasts at most {MAX_DAYS_LONG} days.", "endsAt")
        if (e.ends_at - e.starts_at).days > MAX_DAYS_LONG else None,
        UserError(ErrorCode.REQUIRED, "An event has a venue or an online link.", "venue")
        if not (e.venue or "").strip() and not e.online_url else None,
        _range(e.capacity, 1, MAX_CAPACITY, "capacity", "The capacity"),
        UserError(ErrorCode.OUT_OF_RANGE, f"{taken} seats are taken: the capacity cannot go below that.", "capacity")
        if 1 <= e.capacity < taken else None,
        _range(e.points_cost, 0, MAX_POINTS, "pointsCost", "The points cost"),
        _range(e.attendance_points, 0, MAX_POINTS, "attendancePoints", "Attendance points"),
        _range(e.cancellation.refund_percent, 0, 100, "cancellationPolicy.refundPercent", "The refund"),
        _range(e.cancellation.refund_until_hours, 0, MAX_HOURS, "cancellationPolicy.refundUntilHours",
               "The refund deadline (hours before the start)"),
        _range(e.offer_hold_hours, 1, MAX_HOURS, "offerHoldHours", "An offer's hold (hours)"),
        UserError(ErrorCode.INVALID, "Registration closes after it opens.", "registrationClosesAt")
        if opens and closes and closes <= opens else None,
        UserError(ErrorCode.INVALID, "Registration closes no later than the start.", "registrationClosesAt")
        if closes and closes > e.starts_at else None,
        UserError(ErrorCode.INVALID, "Registration opens before the start.", "registrationOpensAt")
        if opens and opens >= e.starts_at else None,
        _tier_problem(e.min_tier_rank, tier_ranks),
        UserError(ErrorCode.NOT_FOUND, "No badge has this id.", "badgeId") if e.badge_id and not badge_exists else None,
    )
    return e


def _tier_problem(rank: int | None, ranks: frozenset[int] | None) -> UserError | None:
    if rank is None:
        return None
    if ranks is None:
        return UserError(ErrorCode.INVALID, "A tier gate needs a tier ladder.", "minTierRank")
    if rank not in ranks:
        return UserError(ErrorCode.NOT_FOUND, f"No tier has rank {rank}.", "minTierRank")
    return None


def closes_at(e: VipEvent) -> datetime:
    """Registration closes at its set time, else when the event starts."""
    return e.registration_closes_at or e.starts_at


def to_dict(e: VipEvent) -> dict[str, Any]:
    def t(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {"id": e.event_id, "title": e.title, "description": e.description, "venue": e.venue,
            "onlineUrl": e.online_url, "startsAt": t(e.starts_at), "endsAt": t(e.ends_at), "capacity": e.capacity,
            "opensAt": t(e.registration_opens_at), "closesAt": t(e.registration_closes_at),
            "minTierRank": e.min_tier_rank, "invitedOnly": e.invited_only, "pointsCost": e.points_cost,
            "attendancePoints": e.attendance_points, "badgeId": e.badge_id, "cancellation": e.cancellation.to_dict(),
            "offerMode": e.offer_mode.value, "offerHoldHours": e.offer_hold_hours, "public": e.public,
            "status": e.status.value}


def from_dict(d: dict[str, Any]) -> VipEvent:
    def t(v: str | None) -> datetime | None:
        return datetime.fromisoformat(v) if v else None

    starts, ends = t(d["startsAt"]), t(d["endsAt"])
    assert starts is not None and ends is not None
    rank = d.get("minTierRank")
    return VipEvent(event_id=d["id"], title=d.get("title", ""), description=d.get("description") or "",
                    venue=d.get("venue"), online_url=d.get("onlineUrl"), starts_at=starts, ends_at=ends,
                    capacity=int(d["capacity"]), registration_opens_at=t(d.get("opensAt")),
                    registration_closes_at=t(d.get("closesAt")), min_tier_rank=int(rank) if rank is not None else None,
                    invited_only=bool(d.get("invitedOnly", False)), points_cost=int(d.get("pointsCost", 0)),
                    attendance_points=int(d.get("attendancePoints", 0)), badge_id=d.get("badgeId"),
                    cancellation=CancellationPolicy.from_dict(d.get("cancellation")),
                    offer_mode=OfferMode(d.get("offerMode", OfferMode.CONFIRM.value)),
                    offer_hold_hours=int(d.get("offerHoldHours", 24)), public=bool(d.get("public", False)),
                    status=EventStatus(d.get("status", EventStatus.SCHEDULED.value)))
