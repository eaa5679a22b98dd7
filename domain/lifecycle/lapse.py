"""Lapsed members: no qualifying activity for the program's `lapse_after_days` marks a member for
win-back. A member is never deleted for inactivity, only marked; returning activity clears the mark.

`MemberLapsed` is told once per lapse and `MemberReturned` once per return: the state moves only
ACTIVE -> LAPSED -> ACTIVE, and each event is the move itself, so repeating a job or a stream batch
finds the member already moved and tells nothing again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

MIN_LAPSE_DAYS, MAX_LAPSE_DAYS = 7, 3650


class Standing(Enum):
    ACTIVE = "ACTIVE"
    LAPSED = "LAPSED"


@dataclass(frozen=True)
class Move:
    to: Standing
    event: str  # the internal outbox type of the move


def lapse_due(last_activity: datetime, lapse_after_days: int) -> datetime:
    """When a member with this last qualifying activity lapses if nothing else happens."""
    if not MIN_LAPSE_DAYS <= lapse_after_days <= MAX_LAPSE_DAYS:
        raise ValueError(f"lapse_after_days must be {MIN_LAPSE_DAYS}..{MAX_LAPSE_DAYS}")
    return last_activity + timedelta(days=lapse_after_days)


def due_day(last_activity: datetime, lapse_after_days: int | None) -> datetime:
    """The day written in the due index for a member last active at `last_activity`. With lapsing off,
    the earliest any setting could make them due: turning it on later finds them, and the job then judges
    by the setting in force (moving the day on when it is not reached)."""
    return lapse_due(last_activity, lapse_after_days or MIN_LAPSE_DAYS)


QUALIFYING_ENTRIES = frozenset({"EARN", "ACTION"})  # an order, or an action the member took
NOT_THE_MEMBERS_DOING = frozenset({"birthday"})  # actions credited by the calendar, not by the member


def is_qualifying_activity(entry_type: object, action: object) -> bool:
    """Points earned that count as the member's own activity: an order, or an action other than the birthday."""
    return entry_type in QUALIFYING_ENTRIES and not (entry_type == "ACTION" and action in NOT_THE_MEMBERS_DOING)


def on_due(standing: Standing, last_activity: datetime, lapse_after_days: int, now: datetime) -> Move | None:
    """The lapse job's decision for a member it found due: lapse them, or nothing (already lapsed, or
    activity since the due date was written moved it on)."""
    if standing is Standing.LAPSED or now < lapse_due(last_activity, lapse_after_days):
        return None
    return Move(Standing.LAPSED, "member.lapsed")


def on_activity(standing: Standing) -> Move | None:
    """Qualifying activity by a lapsed member brings them back; by an active one, nothing to tell."""
    return Move(Standing.ACTIVE, "member.returned") if standing is Standing.LAPSED else None
