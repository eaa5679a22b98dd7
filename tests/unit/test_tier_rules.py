"""Tier rules as plain functions: local periods (around midnight, across DST), qualification windows,
what a refund retains, and what a period end does under each policy."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain import calendar
from domain.tiers.ladder import Basis, DowngradePolicy, Ladder, QualificationPeriod, Tier
from domain.tiers.status import (Manual, ManualMode, Source, TierState, evaluate, outcome_at_end, period_end,
                                 progress, retain_before_drop, standing)

UTC = timezone.utc
TIERS = (Tier("base", "Base", 1, Decimal(0)), Tier("silver", "Silver", 2, Decimal(500)),
         Tier("gold", "Gold", 3, Decimal(2000)))


def ladder(**kw) -> Ladder:
    return Ladder(TIERS, **kw)


def test_a_purchase_just_after_local_midnight_counts_in_the_new_local_month_in_tokyo():
    before = datetime(2026, 3, 31, 14, 59, 59, tzinfo=UTC)  # 23:59:59 in Tokyo
    after = datetime(2026, 3, 31, 15, 0, 0, tzinfo=UTC)  # 00:00:00 on 1 April in Tokyo
    assert calendar.month_key(before, "Asia/Tokyo") == "2026-03"
    assert calendar.month_key(after, "Asia/Tokyo") == "2026-04"


@pytest.mark.parametrize("month,end", [
    ("2026-03", datetime(2026, 4, 1, 4, tzinfo=UTC)),  # after the March change: EDT, UTC-4
    ("2026-10", datetime(2026, 11, 1, 4, tzinfo=UTC)),  # 1 Nov is still EDT at midnight
    ("2026-11", datetime(2026, 12, 1, 5, tzinfo=UTC)),  # after the November change: EST, UTC-5
])
def test_a_month_ends_at_local_midnight_in_new_york_on_either_side_of_a_dst_change(month, end):
    assert calendar.month_end(month, "America/New_York") == end
    at = end - timedelta(seconds=1)
    assert calendar.month_key(at, "America/New_York") == month
    assert calendar.month_key(end, "America/New_York") == calendar.add_months(month, 1)


def test_a_calendar_year_ends_at_local_midnight_in_tokyo():
    lad = ladder(period=QualificationPeriod.CALENDAR_YEAR)
    assert period_end(lad, "Asia/Tokyo", datetime(2026, 6, 1, tzinfo=UTC)) == datetime(2026, 12, 31, 15, tzinfo=UTC)


def test_rolling_twelve_months_count_this_month_and_the_eleven_before():
    lad = ladder(period=QualificationPeriod.ROLLING_12_MONTHS)
    state = TierState(points={"2025-06": 400, "2025-07": 300, "2026-05": 100})
    at = datetime(2026, 6, 15, tzinfo=UTC)
    # July 2025 is the oldest month of the window ending June 2026; June 2025 is out: 300 + 100.
    assert standing(state, lad, "UTC", at).tier.id == "base"
    p = progress(state, lad, "UTC", at)
    assert p.qualifying == 400 and p.next.id == "silver" and p.needed == 100


def test_spend_qualifies_in_the_ladders_currency_only_through_the_spend_months():
    lad = ladder(basis=Basis.SPEND, currency="JPY")
    state = TierState(points={"2026-02": 5000}, spend={"2026-02": Decimal("600.50")})
    assert standing(state, lad, "UTC", datetime(2026, 2, 3, tzinfo=UTC)).tier.id == "silver"


def test_a_refund_below_the_threshold_keeps_the_tier_and_what_the_year_reached():
    lad = ladder(period=QualificationPeriod.CALENDAR_YEAR)
    at = datetime(2026, 5, 1, tzinfo=UTC)
    # Gold kept from last year until this year's end; this year reached Silver, then a refund.
    before = TierState(points={"2026-04": 600}, held="gold", held_until=datetime(2027, 1, 1, tzinfo=UTC))
    after = replace(before, points={"2026-04": 100})
    kept = retain_before_drop(before, after, lad, "UTC", at)
    assert kept is not None and kept.held == "gold" and kept.reached == "silver"
    _, tier_after, _ = outcome_at_end(kept, lad, "UTC", datetime(2027, 1, 1, tzinfo=UTC))
    assert tier_after.id == "silver"  # reached in 2026: kept through 2027


@pytest.mark.parametrize("policy,expected", [(DowngradePolicy.RECALCULATE, "base"),
                                             (DowngradePolicy.DROP_ONE, "silver"), (DowngradePolicy.GRACE, "gold")])
def test_a_period_end_below_the_tier_applies_the_policy(policy, expected):
    lad = ladder(period=QualificationPeriod.CALENDAR_YEAR, policy=policy, grace_days=30)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    state = TierState(points={"2026-03": 100}, held="gold", held_until=end)
    before, after, new = outcome_at_end(state, lad, "UTC", end)
    assert (before.id, after.id) == ("gold", expected)
    if policy is DowngradePolicy.GRACE:
        assert new.held_until == end + timedelta(days=30) and new.grace_target == "base"
        ends = evaluate(new, lad, "UTC", end + timedelta(days=30, hours=1))
        assert ends.after.id == "base" and ends.cause == "GRACE_END"


def test_the_job_applies_a_period_end_once():
    lad = ladder(period=QualificationPeriod.CALENDAR_YEAR)
    state = TierState(points={"2026-03": 2100})
    first = evaluate(state, lad, "UTC", datetime(2027, 1, 1, 2, tzinfo=UTC))
    assert first.state.held == "gold" and first.state.held_until == datetime(2028, 1, 1, tzinfo=UTC)
    again = evaluate(first.state, lad, "UTC", datetime(2027, 1, 1, 3, tzinfo=UTC))
    assert not again.changed and again.cause is None


def test_an_override_is_exactly_its_tier_and_a_floor_is_at_least_its_tier():
    lad = ladder()
    at = datetime(2026, 5, 1, tzinfo=UTC)
    rich = TierState(points={"2026-04": 5000})
    override = replace(rich, manual=Manual("silver", ManualMode.OVERRIDE))
    floor = replace(rich, manual=Manual("silver", ManualMode.FLOOR))
    assert (standing(override, lad, "UTC", at).tier.id, standing(override, lad, "UTC", at).source) == (
        "silver", Source.OVERRIDE)
    assert standing(floor, lad, "UTC", at).tier.id == "gold"
    expired = replace(floor, manual=Manual("gold", ManualMode.OVERRIDE, until=at - timedelta(days=1)))
    assert standing(expired, lad, "UTC", at).tier.id == "gold"  # qualification's own Gold, not the override


def test_at_risk_is_announced_once_in_the_notice_window_with_what_is_still_needed():
    lad = ladder(period=QualificationPeriod.CALENDAR_YEAR, risk_days=14)
    state = TierState(points={"2027-02": 300}, held="gold", held_until=datetime(2028, 1, 1, tzinfo=UTC))
    early = evaluate(state, lad, "UTC", datetime(2027, 12, 1, tzinfo=UTC))
    assert early.at_risk is None and early.next_due == datetime(2027, 12, 18, tzinfo=UTC)
    notice = evaluate(early.state, lad, "UTC", datetime(2027, 12, 18, 1, tzinfo=UTC))
    assert notice.at_risk is not None and notice.at_risk.needed == 1700
    assert evaluate(notice.state, lad, "UTC", datetime(2027, 12, 19, tzinfo=UTC)).at_risk is None
