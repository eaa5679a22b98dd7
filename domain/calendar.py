"""The program's calendar: the one place where an instant becomes a local day, week, month or year.

Tiers, badges, streaks, challenges and leaderboards all count by the brand's wall clock
(`Program.timezone`), never by UTC: a purchase at 23:30 in Tokyo on 31 March is a March purchase,
and a streak breaks at the local month boundary. Every period key and boundary is computed here,
so two features can never disagree about which month (or week) an instant belongs to.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)  # ZoneInfo caches each zone


def local(at: datetime, tz: str) -> datetime:
    """`at` on the brand's wall clock (`at` must be aware)."""
    return at.astimezone(zone(tz))


def local_day(at: datetime, tz: str) -> date:
    return local(at, tz).date()


def day_start(day: date, tz: str) -> datetime:
    """The instant (UTC) a local day begins; across a DST change this is still local midnight."""
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(timezone.utc)


# -- months -----------------------------------------------------------------------------------------

def month_key(at: datetime, tz: str) -> str:
    """"2026-11": the local month of `at`."""
    d = local_day(at, tz)
    return f"{d.year:04d}-{d.month:02d}"


def _ym(key: str) -> tuple[int, int]:
    y, m = key.split("-")
    return int(y), int(m)


def add_months(key: str, n: int) -> str:
    y, m = _ym(key)
    i = y * 12 + (m - 1) + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def next_month_key(key: str) -> str:
    return add_months(key, 1)


def months_between(a: str, b: str) -> int:
    """How many months from month `a` to month `b` (b - a); 0 for the same month."""
    (ya, ma), (yb, mb) = _ym(a), _ym(b)
    return (yb * 12 + mb) - (ya * 12 + ma)


def month_start(key: str, tz: str) -> datetime:
    """The instant (UTC) the local month `key` begins."""
    y, m = _ym(key)
    return day_start(date(y, m, 1), tz)


def month_end(key: str, tz: str) -> datetime:
    """The instant (UTC) the local month `key` ends: the next month's first instant."""
    return month_start(next_month_key(key), tz)


def months_of_year(year: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


# -- years ------------------------------------------------------------------------------------------

def year_key(at: datetime, tz: str) -> str:
    return f"{local_day(at, tz).year:04d}"


def year_start(year: int, tz: str) -> datetime:
    return day_start(date(year, 1, 1), tz)


def year_end(year: int, tz: str) -> datetime:
    return year_start(year + 1, tz)


# -- weeks (ISO: Monday to Sunday) --------------------------------------------------------------------

def week_key(at: datetime, tz: str) -> str:
    """"2026-W48": the local ISO week of `at`."""
    y, w, _ = local_day(at, tz).isocalendar()
    return f"{y:04d}-W{w:02d}"


def week_start(key: str, tz: str) -> datetime:
    y, w = key.split("-W")
    return day_start(date.fromisocalendar(int(y), int(w), 1), tz)


def add_weeks(key: str, n: int) -> str:
    y, w = key.split("-W")
    d = date.fromisocalendar(int(y), int(w), 1) + timedelta(weeks=n)
    iy, iw, _ = d.isocalendar()
    return f"{iy:04d}-W{iw:02d}"


def weeks_between(a: str, b: str) -> int:
    ya, wa = a.split("-W")
    yb, wb = b.split("-W")
    da, db = date.fromisocalendar(int(ya), int(wa), 1), date.fromisocalendar(int(yb), int(wb), 1)
    return (db - da).days // 7


# -- periods by name ----------------------------------------------------------------------------------

def period_key(at: datetime, tz: str, unit: str) -> str:
    """The key of the local period of `at`: unit WEEK, MONTH or YEAR."""
    if unit == "WEEK":
        return week_key(at, tz)
    if unit == "MONTH":
        return month_key(at, tz)
    if unit == "YEAR":
        return year_key(at, tz)
    raise ValueError(f"unknown period unit {unit!r}")


def periods_between(a: str, b: str, unit: str) -> int:
    """How many periods from `a` to `b` (b - a)."""
    if unit == "WEEK":
        return weeks_between(a, b)
    if unit == "MONTH":
        return months_between(a, b)
    if unit == "YEAR":
        return int(b) - int(a)
    raise ValueError(f"unknown period unit {unit!r}")


def period_end(key: str, tz: str, unit: str) -> datetime:
    """The instant (UTC) the local period `key` ends."""
    if unit == "WEEK":
        return week_start(add_weeks(key, 1), tz)
    if unit == "MONTH":
        return month_end(key, tz)
    if unit == "YEAR":
        return year_end(int(key), tz)
    raise ValueError(f"unknown period unit {unit!r}")
