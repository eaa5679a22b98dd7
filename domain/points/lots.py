"""Point lots: available points grouped by when they expire; spending and expiry take the oldest first.

A lot is a bucket: every point that expires at the same moment shares one. Under "N months after
earning" points earned in one (UTC) month expire together when the month N months later ends, so a
member holds at most one bucket per month of the policy, whatever they buy; points that never expire on
a date ("never", or "after inactivity", where everything goes at once) share a single bucket. A credit
adds to its bucket without reading it.

Lots are never rewritten when points are spent. The member keeps one counter, `consumed`, of points
taken from lots; walking the lots in expiry order and subtracting `consumed` tells what each lot has
left. So spending needs no read of the lots, and one conditional update covers it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from domain.points.program import ExpiryMode, Program

NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)
NEVER_BUCKET = "NEVER"  # the bucket of points without an expiry date; sorts after every `YYYY-MM`


@dataclass(frozen=True)
class Lot:
    key: str
    points: int
    earned_at: datetime | None  # a bucket: when points were last added to it
    expires_at: datetime | None  # None: never, or (inactivity policy) with all the others


@dataclass(frozen=True)
class LotLeft:
    lot: Lot
    left: int


def add_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    year = at.year + month // 12
    month = month % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def lot_expiry(earned_at: datetime, program: Program) -> datetime | None:
    """When points credited at `earned_at` expire: under "N months after earning", the moment the (UTC)
    month N months after the month they were earned in ends. Never sooner than `earned_at` plus N
    months, and the same for every point of that month, so they share one bucket."""
    if program.expiry_mode is not ExpiryMode.AFTER_EARNING:
        return None
    month_start = earned_at.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return add_months(month_start, program.expiry_months + 1)


def bucket(expires_at: datetime | None) -> str:
    """The bucket points expiring at `expires_at` share: the last month they live (`2027-03` for points
    that expire when March 2027 ends), or NEVER_BUCKET."""
    if expires_at is None:
        return NEVER_BUCKET
    last = expires_at.astimezone(timezone.utc) - timedelta(microseconds=1)
    return f"{last.year:04d}-{last.month:02d}"


def inactivity_expiry(last_activity: datetime, program: Program) -> datetime | None:
    if program.expiry_mode is ExpiryMode.AFTER_INACTIVITY:
        return add_months(last_activity, program.expiry_months)
    return None


def walk_order(lot: Lot) -> tuple[datetime, str]:
    """Oldest-expiring first, undated last; by key among equals (lots written before buckets, one per
    credit, may share an expiry)."""
    at = lot.expires_at or NEVER
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc), lot.key)


def what_is_left(lots: list[Lot], consumed: int) -> list[LotLeft]:
    """Each lot's remaining points, oldest-expiring first, after `consumed` points were taken."""
    out = []
    for lot in sorted(lots, key=walk_order):
        take = min(consumed, lot.points)
        consumed -= take
        out.append(LotLeft(lot, lot.points - take))
    return out


@dataclass(frozen=True)
class ExpiringSoon:
    points: int
    at: datetime


def expiring_soon(lots: list[Lot], consumed: int, now: datetime, within_days: int,
                  inactivity_at: datetime | None = None) -> ExpiringSoon | None:
    """The next expiry within the reminder horizon: the points that will go and when. Under "after
    inactivity" (`inactivity_at` given) that is everything at that date, unless a bucket dated under an
    earlier "after earning" policy expires sooner: the expire job takes it on its own date."""
    horizon = now + timedelta(days=within_days)
    left = [x for x in what_is_left(lots, consumed) if x.left > 0]
    everything = None
    if inactivity_at is not None:
        total = sum(x.left for x in left)
        everything = ExpiringSoon(total, inactivity_at) if total and inactivity_at <= horizon else None
    dated = [x for x in left if x.lot.expires_at is not None and x.lot.expires_at <= horizon]
    if not dated:
        return everything
    first = min(x.lot.expires_at for x in dated if x.lot.expires_at)
    if everything is not None and everything.at <= first:
        return everything
    return ExpiringSoon(sum(x.left for x in dated if x.lot.expires_at == first), first)
