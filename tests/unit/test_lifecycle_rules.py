"""Anniversaries, order milestones and lapsing, as rules on dates and states."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.lifecycle.anniversaries import (anniversaries_reached, anniversary_day, anniversary_due,
                                            order_milestones_crossed, years_completed)
from domain.lifecycle.lapse import Standing, lapse_due, on_activity, on_due

LEAP_JOIN = date(2024, 2, 29)


def test_a_leap_day_member_has_the_anniversary_on_28_february_in_common_years_and_29_in_leap_years():
    assert anniversary_day(LEAP_JOIN, 2025) == date(2025, 2, 28)
    assert anniversary_day(LEAP_JOIN, 2028) == date(2028, 2, 29)
    assert anniversary_due(LEAP_JOIN, date(2025, 2, 28)).key == "anniversary:1"
    assert anniversary_due(LEAP_JOIN, date(2025, 3, 1)) is None


def test_years_completed_turn_on_the_anniversary_day_not_before():
    joined = date(2025, 12, 2)
    assert years_completed(joined, date(2026, 12, 1)) == 0
    assert years_completed(joined, date(2026, 12, 2)) == 1
    assert years_completed(joined, date(2030, 1, 1)) == 4
    assert anniversary_due(joined, joined) is None  # the day one joins is no anniversary


def test_a_job_that_missed_days_catches_up_on_every_anniversary_each_with_its_own_mark():
    assert [m.key for m in anniversaries_reached(date(2023, 6, 1), date(2026, 6, 1))] == [
        "anniversary:1", "anniversary:2", "anniversary:3"]
    assert anniversaries_reached(date(2026, 6, 1), date(2026, 12, 1)) == []


def test_order_milestones_are_crossed_once_even_by_a_jump():
    assert [m.key for m in order_milestones_crossed(0, 1)] == ["orders:1"]
    assert [m.key for m in order_milestones_crossed(9, 10)] == ["orders:10"]
    assert order_milestones_crossed(10, 11) == []
    assert [m.key for m in order_milestones_crossed(8, 26)] == ["orders:10", "orders:25"]
    assert order_milestones_crossed(5, 5) == [] and order_milestones_crossed(6, 5) == []


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def test_a_member_lapses_once_when_due_and_not_before():
    last = NOW - timedelta(days=90)
    assert on_due(Standing.ACTIVE, last, 90, NOW).event == "member.lapsed"
    assert on_due(Standing.ACTIVE, last, 90, NOW - timedelta(seconds=1)) is None
    assert on_due(Standing.LAPSED, last, 90, NOW) is None  # a repeated job run tells nothing twice
    assert on_due(Standing.ACTIVE, NOW - timedelta(days=10), 90, NOW) is None  # activity since


def test_returning_activity_clears_the_lapse_once():
    assert on_activity(Standing.LAPSED).to is Standing.ACTIVE
    assert on_activity(Standing.LAPSED).event == "member.returned"
    assert on_activity(Standing.ACTIVE) is None


@pytest.mark.parametrize("days", [0, 6, 3651, -1])
def test_a_lapse_period_outside_a_week_to_ten_years_is_refused(days):
    with pytest.raises(ValueError):
        lapse_due(NOW, days)
