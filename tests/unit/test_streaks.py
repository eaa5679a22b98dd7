"""Streaks count local periods of the program's calendar (domain/calendar.py), break at the local period
boundary (read against now, no job), and ignore replays."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.progress import counters as counting
from domain.progress.counters import Counters
from domain.progress.streaks import MONTH, WEEK, Streak, advance, advance_at, current_at

UTC = timezone.utc


def purchase(c: Counters, at: datetime, tz: str) -> Counters:
    return counting.apply(c, "points.earned", {"orderId": "o", "status": "PENDING"}, at, tz)


def test_a_purchase_just_before_local_midnight_at_month_end_counts_for_that_month_in_tokyo():
    # 2026-03-31 23:59 in Tokyo is 14:59 UTC; 00:00 on 1 April is 15:00 UTC.
    before = datetime(2026, 3, 31, 14, 59, tzinfo=UTC)
    after = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    c = purchase(Counters(), datetime(2026, 2, 10, tzinfo=UTC), "Asia/Tokyo")
    c = purchase(c, before, "Asia/Tokyo")
    assert c.streak(counting.PURCHASE_MONTHS).last == "2026-03" and c.streak(counting.PURCHASE_MONTHS).length == 2
    c = purchase(c, after, "Asia/Tokyo")
    assert c.streak(counting.PURCHASE_MONTHS).last == "2026-04" and c.streak(counting.PURCHASE_MONTHS).length == 3


def test_a_streak_breaks_at_the_local_month_boundary_not_at_midnight_utc():
    s = advance(Streak(MONTH), "2026-01")
    # Still alive through February (the member can still buy); gone once February has ended in Tokyo.
    assert current_at(s, datetime(2026, 2, 28, 14, 59, tzinfo=UTC), "Asia/Tokyo") == 1
    assert current_at(s, datetime(2026, 2, 28, 15, 0, tzinfo=UTC), "Asia/Tokyo") == 0  # 1 March 00:00 JST
    # In UTC that instant is still February: the same streak is alive there.
    assert current_at(s, datetime(2026, 2, 28, 15, 0, tzinfo=UTC), "UTC") == 1


def test_weeks_in_new_york_follow_local_midnight_across_the_dst_change():
    tz = "America/New_York"
    # DST starts Sunday 2026-03-08. Sunday 23:30 EDT is 03:30 UTC on Monday: still the week of 2 March.
    sunday_night = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
    monday_start = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # 00:00 EDT
    s = advance_at(Streak(WEEK), datetime(2026, 2, 25, 15, tzinfo=UTC), tz)  # week 9
    s = advance_at(s, sunday_night, tz)
    assert (s.last, s.length) == ("2026-W10", 2)
    s = advance_at(s, monday_start, tz)
    assert (s.last, s.length) == ("2026-W11", 3)
    # Week 12 is alive all week; at local midnight starting week 13 (04:00 UTC, EDT) it is gone.
    assert current_at(s, datetime(2026, 3, 23, 3, 59, tzinfo=UTC), tz) == 3
    assert current_at(s, datetime(2026, 3, 23, 4, 0, tzinfo=UTC), tz) == 0


def test_months_in_new_york_across_the_autumn_dst_change():
    tz = "America/New_York"
    # DST ends 2026-11-01. 31 October 23:30 EDT is 03:30 UTC on 1 November: an October purchase.
    s = advance_at(Streak(MONTH), datetime(2026, 11, 1, 3, 30, tzinfo=UTC), tz)
    assert s.last == "2026-10"
    s = advance_at(s, datetime(2026, 11, 1, 4, 0, tzinfo=UTC), tz)  # 00:00 EDT, 1 November
    assert (s.last, s.length) == ("2026-11", 2)
    # December ends at 05:00 UTC (EST): alive until then.
    assert current_at(s, datetime(2027, 1, 1, 4, 59, tzinfo=UTC), tz) == 2
    assert current_at(s, datetime(2027, 1, 1, 5, 0, tzinfo=UTC), tz) == 0


def test_replays_and_a_second_event_in_the_same_period_change_nothing_and_the_best_stays():
    s = advance(advance(Streak(MONTH), "2026-01"), "2026-02")
    assert advance(s, "2026-02") == s
    assert advance(s, "2026-01") == s  # an earlier month arriving late
    broken = advance(s, "2026-06")
    assert (broken.length, broken.best) == (1, 2)


def test_current_is_the_run_through_the_period_after_the_last():
    s = advance(advance(advance(Streak(MONTH), "2026-01"), "2026-02"), "2026-03")
    now = datetime(2026, 4, 15, tzinfo=UTC)
    assert current_at(s, now, "UTC") == 3
    assert current_at(s, now + timedelta(days=30), "UTC") == 0
