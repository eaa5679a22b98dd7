"""Check-in at the door: what a scan of a ticket's code decides, and the answer a scan keeps.

A ticket's code (what the QR code on it carries) is random (144 bits, made when the registration is);
the table keeps only its SHA-256 in the key that leads to the registration (`code_hash`), so neither a
key nor a log line ever carries the code. A scan has its own id (the scanner's): the first answer to it
is kept, and the same scan sent again (a retry after a lost answer) gets that answer back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from domain.errors import ErrorCode, UserError
from domain.vip_events.model import EventStatus, RegistrationState

# Doors open this long before the start; check-in closes at the end (the no-show job follows).
CHECK_IN_OPENS_BEFORE = timedelta(hours=3)


def code_hash(code: str) -> str:
    """The key of a ticket lookup: hex SHA-256 of the code as printed."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class Outcome(Enum):
    CHECKED_IN = "CHECKED_IN"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"


@dataclass(frozen=True)
class CheckInAnswer:
    outcome: Outcome
    event_id: str
    member_id: str
    checked_in_at: datetime
    checked_in_by: str
    points: int = 0  # attendance points (and a badge's bonus) credited by this scan
    badge_id: str | None = None  # the badge this scan awarded

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "eventId": self.event_id, "memberId": self.member_id,
                "checkedInAt": self.checked_in_at.isoformat(), "checkedInBy": self.checked_in_by,
                "points": self.points, "badgeId": self.badge_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CheckInAnswer":
        return cls(Outcome(d["outcome"]), d["eventId"], d["memberId"], datetime.fromisoformat(d["checkedInAt"]),
                   d["checkedInBy"], int(d.get("points", 0)), d.get("badgeId"))


def check_scanner(scanner: str | None, member_id: str) -> None:
    """Event staff check others in: their own ticket is refused (SELF_CHECK_IN)."""
    if scanner is not None and scanner == member_id:
        raise UserError(ErrorCode.SELF_CHECK_IN, "Another member of staff must check you in.", "code")


def check_door(status: EventStatus, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """The event takes check-ins now: not cancelled, doors open, not over."""
    if status is EventStatus.CANCELLED:
        raise UserError(ErrorCode.EVENT_CANCELLED, "This event was cancelled.", "code")
    if now < starts_at - CHECK_IN_OPENS_BEFORE:
        raise UserError(ErrorCode.NOT_AVAILABLE,
                        f"Check-in opens {int(CHECK_IN_OPENS_BEFORE.total_seconds() // 3600)} hours before the start.",
                        "code")
    if now > ends_at:
        raise UserError(ErrorCode.NOT_AVAILABLE, "The event is over: check-in has closed.", "code")


def check_ticket(state: RegistrationState) -> None:
    """Only a confirmed seat checks in (an attended one answers ALREADY_CHECKED_IN, decided by the caller)."""
    if state is not RegistrationState.CONFIRMED:
        words = {RegistrationState.WAITLISTED: "is on the waitlist", RegistrationState.OFFERED: "has an offer not yet accepted",
                 RegistrationState.CANCELLED: "was cancelled", RegistrationState.NO_SHOW: "was marked a no-show"}
        raise UserError(ErrorCode.INVALID_STATE, f"This ticket {words.get(state, 'is not confirmed')}.", "code")
