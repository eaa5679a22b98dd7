"""Points for actions: which period a credit counts in, caps and cooldowns."""
from __future__ import annotations

from datetime import datetime, timedelta

from domain import calendar
from domain.errors import ErrorCode, UserError
from domain.points.orders import ReturnRate
from domain.points.program import ActionRule, Period

SIGNUP = "signup"
PROFILE_COMPLETED = "profile_completed"
BIRTHDAY = "birthday"
REVIEW_WRITTEN = "review_written"
REFERRAL = "referral"
BUILT_IN = (SIGNUP, PROFILE_COMPLETED, BIRTHDAY, REVIEW_WRITTEN, REFERRAL)


def period_key(period: Period, at: datetime, tz: str) -> str:
    """The bucket a credit counts in for its cap, on the brand's calendar (domain/calendar.py, the one
    day boundary): 2026-11-22, 2026-W47, 2026-11, 2026, or ALL."""
    if period is Period.DAY:
        return calendar.local_day(at, tz).isoformat()
    if period is Period.LIFETIME:
        return "ALL"
    return calendar.period_key(at, tz, period.value)


def cooldown_cutoff(rule: ActionRule, now: datetime) -> datetime | None:
    """The last credit must be at or before this time for a new one to be allowed."""
    return now - timedelta(seconds=rule.cooldown_seconds) if rule.cooldown_seconds else None


def check_return_rate(rule: ActionRule, rate: ReturnRate | None) -> None:
    if rule.max_return_rate is not None and rate is not None and rate.rate > rule.max_return_rate:
        raise UserError(ErrorCode.NOT_AVAILABLE, "This bonus is not available for the member's return rate.",
                        "action")


def check_reference(ref: str) -> None:
    if not ref or len(ref) > 128 or "#" in ref:
        raise UserError(ErrorCode.INVALID, "A reference is 1-128 characters without '#'.", "reference")


def birthday_days(today: datetime) -> list[str]:
    """Month-days whose members celebrate today: Feb 29 birthdays count on Feb 28 in common years."""
    days = [today.strftime("%m-%d")]
    if today.month == 2 and today.day == 28 and not _leap(today.year):
        days.append("02-29")
    return days


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
