"""Point lots: available points grouped by when they expire; spending and expiry take the oldest first.

Lots are never rewritten when points are spent. The member keeps one counter, `consumed`, of points
taken from lots; walking the lots in expiry order and subtracting `consumed` tells what each lot has
left. So spending needs no read of the lots, and one conditional update covers it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.points.program import ExpiryMode, Program

NEVER = datetime(9999, 12, 31)


@dataclass(frozen=True)
class Lot:
    key: str  # sorts by expiry, then by when it was earned
    points: int
    earned_at: datetime
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
    if program.expiry_mode is ExpiryMode.AFTER_EARNING:
        return add_months(earned_at, program.expiry_months)
    return None


def inactivity_expiry(last_activity: datetime, program: Program) -> datetime | None:
    if program.expiry_mode is ExpiryMode.AFTER_INACTIVITY:
        return add_months(last_activity, program.expiry_months)
    return None


def what_is_left(lots: list[Lot], consumed: int) -> list[LotLeft]:
    """Each lot's remaining points, oldest-expiring first, after `consumed` points were taken."""
    out = []
    for lot in sorted(lots, key=lambda lot: lot.key):
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
    """The next expiry within the reminder horizon: the points that will go and when."""
    horizon = now + timedelta(days=within_days)
    left = [x for x in what_is_left(lots, consumed) if x.left > 0]
    if inactivity_at is not None:
        total = sum(x.left for x in left)
        return ExpiringSoon(total, inactivity_at) if total and inactivity_at <= horizon else None
    dated = [x for x in left if x.lot.expires_at is not None and x.lot.expires_at <= horizon]
    if not dated:
        return None
    first = min(x.lot.expires_at for x in dated if x.lot.expires_at)
    return ExpiringSoon(sum(x.left for x in dated if x.lot.expires_at == first), first)
