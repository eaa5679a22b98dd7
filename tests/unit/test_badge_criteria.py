"""Every criterion kind against counters built by the one counting function, and the dating rule."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.badges import criteria
from domain.badges.criteria import Spec
from domain.progress import counters as counting
from domain.progress.counters import Counters

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
TZ = "Asia/Tokyo"


def order(c: Counters, at: datetime, amount: str = "1000", currency: str = "JPY", categories=("skincare",),
          qual_month: str | None = None, order_id: str = "o") -> Counters:
    detail = {"orderId": order_id, "status": "PENDING", "amount": amount, "currency": currency,
              "categories": list(categories)}
    if qual_month:
        detail["qualMonth"] = qual_month
    return counting.apply(c, "points.earned", detail, at, TZ)


def met(kind: str, c: Counters, **params) -> bool:
    spec = Spec(kind, **params)
    assert criteria.check(spec) == []
    return criteria.of(spec).met(c, spec)


def test_first_purchase_is_met_by_one_order_and_not_by_a_release_or_an_action():
    c = counting.apply(Counters(), "points.released", {"orderId": "o"}, T0, TZ)
    c = counting.apply(c, "points.earned", {"action": "review_written"}, T0, TZ)
    assert not met("FIRST_PURCHASE", c)
    assert met("FIRST_PURCHASE", order(c, T0))


def test_purchases_counts_one_per_order_and_reaches_n_at_the_nth():
    c = Counters()
    for i in range(4):
        c = order(c, T0 + timedelta(days=i))
        assert met("PURCHASES", c, count=5) is False
    c = order(c, T0 + timedelta(days=5))
    assert met("PURCHASES", c, count=5)
    assert criteria.of(Spec("PURCHASES", count=5)).progress(c, Spec("PURCHASES", count=5)) == (5, 5)


def test_spend_total_counts_one_currency_and_refunds_take_it_back():
    spec = Spec("SPEND_TOTAL", amount=Decimal(20000), currency="JPY")
    c = order(Counters(), T0, amount="15000")
    c = order(c, T0, amount="99", currency="USD")
    assert not criteria.of(spec).met(c, spec)
    c = order(c, T0, amount="5000")
    assert criteria.of(spec).met(c, spec)
    c = counting.apply(c, "points.reversed", {"orderId": "o", "amount": "3000", "currency": "JPY"}, T0, TZ)
    assert criteria.of(spec).progress(c, spec) == (Decimal(17000), Decimal(20000))


def test_categories_bought_counts_distinct_categories_only():
    c = order(Counters(), T0, categories=("skincare", "skincare"))
    c = order(c, T0, categories=("skincare", "apparel"))
    assert not met("CATEGORIES_BOUGHT", c, count=3)
    assert met("CATEGORIES_BOUGHT", order(c, T0, categories=("home",)), count=3)


@pytest.mark.parametrize("kind,event", [("APPROVED_POSTS", "post.approved"),
                                        ("VIP_EVENTS_ATTENDED", "vip_event.attended"),
                                        ("SUCCESSFUL_REFERRALS", "referral.succeeded")])
def test_count_kinds_are_met_at_n_of_their_own_event_type_only(kind, event):
    c = Counters()
    for other in ("post.approved", "vip_event.attended", "referral.succeeded"):
        if other != event:
            c = counting.apply(c, other, {}, T0, TZ)
    c = counting.apply(c, event, {}, T0, TZ)
    assert not met(kind, c, count=2)
    assert met(kind, counting.apply(c, event, {}, T0, TZ), count=2)
    assert event in criteria.KINDS[kind].events


def test_custom_activity_counts_its_own_action_only():
    c = counting.apply(Counters(), "points.earned", {"action": "review_written"}, T0, TZ)
    c = counting.apply(c, "points.earned", {"action": "unboxing_post"}, T0, TZ)
    assert not met("CUSTOM_ACTIVITY", c, action="unboxing_post", count=2)
    c = counting.apply(c, "points.earned", {"action": "unboxing_post"}, T0, TZ)
    assert met("CUSTOM_ACTIVITY", c, action="unboxing_post", count=2)


def test_profile_completed_is_met_once_the_event_came():
    assert not met("PROFILE_COMPLETED", Counters())
    assert met("PROFILE_COMPLETED", counting.apply(Counters(), "member.profile_completed", {}, T0, TZ))


def test_tier_reached_keeps_the_highest_rank_even_after_a_downgrade():
    c = counting.apply(Counters(), "tier.changed", {"toRank": 3}, T0, TZ)
    c = counting.apply(c, "tier.changed", {"toRank": 1}, T0, TZ)
    assert met("TIER_REACHED", c, rank=3) and not met("TIER_REACHED", c, rank=4)


def test_purchase_streak_months_counts_consecutive_local_months_and_keeps_the_best():
    c = order(Counters(), T0, qual_month="2026-01")
    c = order(c, T0, qual_month="2026-02")
    c = order(c, T0, qual_month="2026-03")
    assert met("PURCHASE_STREAK_MONTHS", c, count=3)
    c = order(c, T0, qual_month="2026-05")  # April missed: the run starts again, the best stays
    assert c.streak(counting.PURCHASE_MONTHS).length == 1
    assert met("PURCHASE_STREAK_MONTHS", c, count=3) and not met("PURCHASE_STREAK_MONTHS", c, count=4)


def test_bad_criteria_are_every_problem_at_once():
    problems = criteria.check(Spec("SPEND_TOTAL", amount=Decimal(-1), currency="y!n", count=3))
    assert {(p.field, p.code.value) for p in problems} == {
        ("criterion.count", "INVALID"), ("criterion.amount", "OUT_OF_RANGE"), ("criterion.currency", "INVALID")}
    assert [p.code.value for p in criteria.check(Spec("NOPE"))] == ["INVALID"]
    assert {p.field for p in criteria.check(Spec("CUSTOM_ACTIVITY"))} == {"criterion.count", "criterion.action"}


def test_a_threshold_on_the_ladder_is_dated_by_the_event_that_crossed_it():
    c = Counters()
    for i in range(12):
        c = order(c, T0 + timedelta(days=i))
    spec = Spec("PURCHASES", count=10)
    assert criteria.of(spec).reached_at(c, spec) == T0 + timedelta(days=9)


def test_a_threshold_off_the_ladder_is_dated_by_the_next_mark_above_it_unless_a_criterion_asked_for_it():
    spec = Spec("PURCHASES", count=13)
    plain, asked = Counters(), Counters()
    for i in range(16):
        at = T0 + timedelta(days=i)
        plain = order(plain, at)
        asked = counting.apply(asked, "points.earned", {"orderId": "o", "status": "PENDING"}, at, TZ,
                               {counting.PURCHASES: [Decimal(13)]})
    assert criteria.of(spec).reached_at(plain, spec) == T0 + timedelta(days=14)  # the 15th: no later than
    assert criteria.of(spec).reached_at(asked, spec) == T0 + timedelta(days=12)  # exact


def test_counters_survive_their_storage_form_and_stay_bounded():
    c = Counters()
    for i in range(300):
        c = order(c, T0 + timedelta(hours=i), amount="12345", categories=(f"cat-{i}",), order_id=str(i))
    assert Counters.from_dict(c.to_dict()) == c
    assert len(c.categories) == counting.MAX_CATEGORIES
    assert all(len(t.marks) <= counting.MAX_MARKS for t in c.tracks.values())
    assert len(str(c.to_dict())) < 12_000
