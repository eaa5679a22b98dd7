"""Streaks: consecutive local periods (months, ISO weeks) with at least one qualifying event.

A streak stores only its last period, its length then and the best length ever: bounded whatever the
history. Periods come from `domain/calendar.py` in the program's time zone, so a purchase at 23:30 in
Tokyo on 31 March continues a March streak, and a streak breaks at the local period boundary.

Nothing resets a streak in storage: `current_at` reads it against now. While the period after the last
one is still running the streak is alive (the member can still extend it); once a whole period has passed
without an event, current is 0. So no job is needed, and replays are harmless: an event in the same
period as the last changes nothing, and one for an earlier period than the last is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import calendar

MONTH = "MONTH"
WEEK = "WEEK"


@dataclass(frozen=True)
class Streak:
    unit: str  # MONTH or WEEK
    last: str | None = None  # the last period key with an event ("2026-11", "2026-W48")
    length: int = 0  # the run ending in `last`
    best: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "last": self.last, "length": self.length, "best": self.best}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, unit: str) -> "Streak":
        if not d:
            return cls(unit)
        return cls(unit, d.get("last"), int(d.get("length", 0)), int(d.get("best", 0)))


def advance(streak: Streak, period: str) -> Streak:
    """The streak after an event in local period `period`."""
    if streak.last is None:
        length = 1
    else:
        gap = calendar.periods_between(streak.last, period, streak.unit)
        if gap <= 0:
            return streak  # the same period again (a second purchase, a replay), or an earlier one
        length = streak.length + 1 if gap == 1 else 1
    return Streak(streak.unit, period, length, max(streak.best, length))


def advance_at(streak: Streak, at: datetime, tz: str) -> Streak:
    return advance(streak, calendar.period_key(at, tz, streak.unit))


def current_at(streak: Streak, now: datetime, tz: str) -> int:
    """The streak's length as of `now`: alive through the period after its last one, 0 after that."""
    if streak.last is None:
        return 0
    gap = calendar.periods_between(streak.last, calendar.period_key(now, tz, streak.unit), streak.unit)
    return streak.length if gap <= 1 else 0
