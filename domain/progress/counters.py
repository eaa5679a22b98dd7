"""A member's counters: one bounded record of everything badges and challenges count.

One way to count things. The progress listener applies each event to the member's counters once
(`apply`); a challenge applies the same function to its own counters, for the events inside its window.
Criteria (domain/badges/criteria/) only read counters.

What is counted, by event type:
- `points.earned` with an `orderId` and status PENDING (one per order): purchases, spend in the
  order's currency (`amount`), the distinct categories bought, the purchase-month streak (`qualMonth`,
  else the local month of the event); with an `action`: that custom activity's count and the
  activity-week streak (signup, referral, birthday and profile rules are not activities);
- `points.reversed`: spend less the `amount` returned (purchases stay counted: the order happened);
- `post.approved`, `vip_event.attended`, `referral.succeeded`: their counts; `member.profile_completed`:
  1; `tier.changed`: the highest rank reached (`toRank`).

Each count is a `Track`: its value, when it last changed and `marks`, the time each threshold was first
crossed. Thresholds marked are a fixed ladder (1-10, 15, 20, 25, 30, 40, 50, 75, 100, ... for counts; 1, 2,
5 x 10^k from 10 for money) plus every threshold a defined badge or challenge uses (the listener passes them),
so the record stays bounded (at most MAX_MARKS per track). The dating rule, used by the backfill of a
badge defined later: a threshold N was reached at `marks[N]` when marked (exact: it is on the ladder,
or a criterion used it when it was crossed), else at the first mark above N (the value reached N no
later than it reached that mark), else at `last` (the value is at least N now, and only events raise it).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from domain import calendar
from domain.progress import streaks
from domain.progress.streaks import Streak

PURCHASES = "purchases"
POSTS = "approvedPosts"
VIP_EVENTS = "vipEventsAttended"
REFERRALS = "successfulReferrals"
PROFILE = "profileCompleted"
RANK = "tierRank"
CATEGORIES = "categories"
PURCHASE_STREAK = "purchaseStreakBest"  # the best purchase-month streak, as a track (so its lengths are dated)


def spend_track(currency: str) -> str:
    return f"spend:{currency.upper()}"


def activity_track(action: str) -> str:
    return f"activity:{action.lower()}"


PURCHASE_MONTHS = "purchase-months"
ACTIVITY_WEEKS = "activity-weeks"
STREAK_UNITS = {PURCHASE_MONTHS: streaks.MONTH, ACTIVITY_WEEKS: streaks.WEEK}

# The action rules the program itself credits: not a member's activity.
NOT_ACTIVITIES = frozenset({"signup", "referral", "birthday", "profile_completed"})

MAX_MARKS = 64
MAX_CATEGORIES = 50
MAX_TRACKS = 80  # currencies and custom actions are few; a flood of new names stops being counted
COUNT_LADDER = (*range(1, 11), 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 500, 750, 1000, 2000, 5000, 10000)
MONEY_LADDER = tuple(Decimal(m) * Decimal(10) ** k for k in range(1, 10) for m in (1, 2, 5))

EVENT_TYPES = frozenset({"points.earned", "points.reversed", "post.approved", "vip_event.attended",
                         "referral.succeeded", "member.profile_completed", "tier.changed"})


@dataclass(frozen=True)
class Track:
    value: Decimal = Decimal(0)
    last: str | None = None  # ISO time of the last event that changed the value
    marks: Mapping[str, str] = field(default_factory=dict)  # threshold (as text) -> ISO time first reached

    def to_dict(self) -> dict[str, Any]:
        # Times are stored as epoch seconds: the item is read by every `me`, and a heavy member's marks
        # as ISO strings would take most of a read unit on their own.
        return {"v": str(self.value), "last": _epoch(self.last),
                "marks": {k: _epoch(at) for k, at in self.marks.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Track":
        return cls(Decimal(str(d.get("v", "0"))), _iso(d.get("last")),
                   {k: _iso(at) for k, at in (d.get("marks") or {}).items()})

    def reached_at(self, threshold: Decimal | int) -> datetime | None:
        """When the value first reached `threshold` (the dating rule above); None if it is below it now."""
        t = Decimal(threshold)
        if self.value < t:
            return None
        exact = self.marks.get(_text(t))
        if exact:
            return datetime.fromisoformat(exact)
        above = sorted((Decimal(k), at) for k, at in self.marks.items() if Decimal(k) >= t)
        if above:
            return datetime.fromisoformat(above[0][1])
        return datetime.fromisoformat(self.last) if self.last else None


def _epoch(at: str | None) -> int | None:
    return int(datetime.fromisoformat(at).timestamp()) if at else None


def _iso(at: Any) -> Any:
    """Back from storage: epoch seconds, or an ISO string as items written before were."""
    if isinstance(at, (int, float, Decimal)) and not isinstance(at, bool):
        return datetime.fromtimestamp(int(at), timezone.utc).isoformat()
    return at


def _text(d: Decimal) -> str:
    """One spelling per threshold: 5000, not 5E+3 or 5000.00."""
    n = d.normalize()
    return format(n, "f") if n == n.to_integral() else format(n, "f").rstrip("0")


@dataclass(frozen=True)
class Counters:
    tracks: Mapping[str, Track] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    streaks: Mapping[str, Streak] = field(default_factory=dict)

    def value(self, track: str) -> Decimal:
        t = self.tracks.get(track)
        return t.value if t else Decimal(0)

    def track(self, track: str) -> Track:
        return self.tracks.get(track) or Track()

    def streak(self, name: str) -> Streak:
        return self.streaks.get(name) or Streak(STREAK_UNITS[name])

    def to_dict(self) -> dict[str, Any]:
        return {"tracks": {k: v.to_dict() for k, v in self.tracks.items()}, "categories": list(self.categories),
                "streaks": {k: v.to_dict() for k, v in self.streaks.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Counters":
        if not d:
            return cls()
        return cls({k: Track.from_dict(v) for k, v in (d.get("tracks") or {}).items()},
                   tuple(d.get("categories") or ()),
                   {k: Streak.from_dict(v, STREAK_UNITS[k]) for k, v in (d.get("streaks") or {}).items()
                    if k in STREAK_UNITS})


def _decimal(raw: Any) -> Decimal | None:
    try:
        d = Decimal(str(raw))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return d if d.is_finite() else None


def _ladder(track: str) -> Iterable[Decimal]:
    return MONEY_LADDER if track.startswith("spend:") else (Decimal(x) for x in COUNT_LADDER)


def _moved(c: Counters, track: str, value: Decimal, at: str, thresholds: Iterable[Decimal]) -> Counters:
    """`track` set to `value` at `at`, marking each threshold first crossed on the way up."""
    if track not in c.tracks and len(c.tracks) >= MAX_TRACKS:
        return c
    old = c.track(track)
    if value == old.value:
        return c
    marks = dict(old.marks)
    if value > old.value:
        for t in sorted({*_ladder(track), *thresholds}):
            key = _text(t)
            if old.value < t <= value and key not in marks and len(marks) < MAX_MARKS:
                marks[key] = at
    return replace(c, tracks={**c.tracks, track: Track(value, at, marks)})


def _add(c: Counters, track: str, delta: Decimal, at: str, thresholds: Mapping[str, Iterable[Decimal]]) -> Counters:
    return _moved(c, track, max(Decimal(0), c.value(track) + delta), at, thresholds.get(track, ()))


def apply(c: Counters, event_type: str, detail: Mapping[str, Any], at: datetime, tz: str,
          thresholds: Mapping[str, Iterable[Decimal]] | None = None) -> Counters:
    """The counters after one event (the caller makes sure each event is applied once). `thresholds`:
    per track, the thresholds defined criteria use, so crossing them is dated exactly."""
    th = thresholds or {}
    iso = at.isoformat(timespec="seconds")
    one = Decimal(1)
    if event_type == "points.earned":
        if detail.get("orderId") and detail.get("status") == "PENDING":
            c = _add(c, PURCHASES, one, iso, th)
            amount, currency = _decimal(detail.get("amount")), detail.get("currency")
            if amount is not None and amount > 0 and isinstance(currency, str) and currency:
                c = _add(c, spend_track(currency), amount, iso, th)
            cats = [x for x in (detail.get("categories") or []) if isinstance(x, str) and x]
            if cats:
                known = list(c.categories)
                known += [x for x in dict.fromkeys(cats) if x not in known][:max(0, MAX_CATEGORIES - len(known))]
                c = replace(c, categories=tuple(known))
                c = _moved(c, CATEGORIES, Decimal(len(known)), iso, th.get(CATEGORIES, ()))
            month = detail.get("qualMonth")
            period = month if isinstance(month, str) and len(month) == 7 else calendar.month_key(at, tz)
            s = streaks.advance(c.streak(PURCHASE_MONTHS), period)
            c = replace(c, streaks={**c.streaks, PURCHASE_MONTHS: s})
            c = _moved(c, PURCHASE_STREAK, Decimal(s.best), iso, th.get(PURCHASE_STREAK, ()))
        action = detail.get("action")
        if isinstance(action, str) and action:
            c = _add(c, activity_track(action), one, iso, th)
            if action.lower() not in NOT_ACTIVITIES:
                c = replace(c, streaks={**c.streaks, ACTIVITY_WEEKS: streaks.advance_at(
                    c.streak(ACTIVITY_WEEKS), at, tz)})
    elif event_type == "points.reversed":
        amount, currency = _decimal(detail.get("amount")), detail.get("currency")
        if amount is not None and amount > 0 and isinstance(currency, str) and currency:
            c = _add(c, spend_track(currency), -amount, iso, th)
    elif event_type == "post.approved":
        c = _add(c, POSTS, one, iso, th)
        c = replace(c, streaks={**c.streaks, ACTIVITY_WEEKS: streaks.advance_at(c.streak(ACTIVITY_WEEKS), at, tz)})
    elif event_type == "vip_event.attended":
        c = _add(c, VIP_EVENTS, one, iso, th)
    elif event_type == "referral.succeeded":
        c = _add(c, REFERRALS, one, iso, th)
    elif event_type == "member.profile_completed":
        c = _moved(c, PROFILE, one, iso, th.get(PROFILE, ())) if c.value(PROFILE) < 1 else c
    elif event_type == "tier.changed":
        rank = _decimal(detail.get("toRank"))
        if rank is not None and rank > c.value(RANK):
            c = _moved(c, RANK, rank, iso, th.get(RANK, ()))
    return c
