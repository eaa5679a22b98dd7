"""Who may register for a VIP event and why not, what a definition may say, and what a freed seat does for the
head of the waitlist: plain rules, no table."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import UserErrors
from domain.tiers.ladder import Benefit, BenefitType, Ladder, Tier
from domain.vip_events import definition
from domain.vip_events.eligibility import Eligibility, Reason, allowed_tiers, eligibility, window_reason
from domain.vip_events.model import CancellationPolicy, EventStatus, OfferMode, RegistrationState, VipEvent
from domain.vip_events.waitlist import promote

NOW = datetime(2027, 5, 10, 12, tzinfo=timezone.utc)
SILVER = Tier("silver", "Silver", 1, Decimal(0))
GOLD = Tier("gold", "Gold", 2, Decimal(1000), (Benefit(BenefitType.EARLY_ACCESS, hours=48),))
PLATINUM = Tier("platinum", "Platinum", 3, Decimal(5000), (Benefit(BenefitType.EARLY_ACCESS, hours=12),))
LADDER = Ladder(tiers=(SILVER, GOLD, PLATINUM))


def event(**kw) -> VipEvent:
    return VipEvent(**{"event_id": "e1", "title": "Night", "venue": "Ginza", "starts_at": NOW + timedelta(days=10),
                       "ends_at": NOW + timedelta(days=10, hours=3), "capacity": 10, **kw})


def judged(e: VipEvent, at: datetime = NOW, **kw) -> Eligibility:
    args = {"tier": SILVER, "invited": False, "registration": None, "blocked_until": None, "seats_left": 5, **kw}
    return eligibility(e, at, **args)


def test_an_open_event_with_seats_is_eligible_and_a_full_one_is_eligible_for_the_waitlist():
    assert judged(event()) == Eligibility(True)
    assert judged(event(), seats_left=0) == Eligibility(True, Reason.FULL)
    assert judged(event(), waitlisted=3) == Eligibility(True, Reason.FULL)  # seats left go to those waiting


@pytest.mark.parametrize("kw, reason", [
    ({"registration": RegistrationState.WAITLISTED}, Reason.ALREADY_REGISTERED),
    ({"registration": RegistrationState.ATTENDED}, Reason.ALREADY_REGISTERED),
    ({"blocked_until": NOW + timedelta(days=1)}, Reason.NO_SHOW_LIMIT),
])
def test_a_member_already_registered_or_blocked_for_no_shows_is_not_eligible(kw, reason):
    assert judged(event(), **kw) == Eligibility(False, reason)


def test_a_cancelled_registration_may_register_again_and_a_block_that_ended_no_longer_counts():
    assert judged(event(), registration=RegistrationState.CANCELLED) == Eligibility(True)
    assert judged(event(), blocked_until=NOW - timedelta(seconds=1)) == Eligibility(True)


def test_cancelled_closed_tier_and_invitation_reasons_come_in_that_order():
    assert judged(event(status=EventStatus.CANCELLED), registration=RegistrationState.CONFIRMED).reason is Reason.CANCELLED
    closed = event(registration_closes_at=NOW - timedelta(hours=1), min_tier_rank=2)
    assert judged(closed).reason is Reason.CLOSED
    assert judged(event(starts_at=NOW, ends_at=NOW + timedelta(hours=1))).reason is Reason.CLOSED
    gated = event(min_tier_rank=2, invited_only=True)
    assert judged(gated).reason is Reason.TIER_REQUIRED
    assert judged(gated, tier=None).reason is Reason.TIER_REQUIRED
    assert judged(gated, tier=GOLD).reason is Reason.NOT_INVITED
    assert judged(gated, tier=GOLD, invited=True) == Eligibility(True)


def test_early_access_opens_the_window_that_many_hours_earlier_for_its_tier_only():
    e = event(registration_opens_at=NOW + timedelta(hours=24))
    assert judged(e).reason is Reason.NOT_OPEN_YET
    assert judged(e, tier=GOLD) == Eligibility(True)  # 48 hours early
    assert judged(e, tier=PLATINUM).reason is Reason.NOT_OPEN_YET  # only 12 hours early
    assert window_reason(e, NOW + timedelta(hours=12), PLATINUM.early_access_hours()) is None
    assert window_reason(e, NOW + timedelta(hours=24)) is None


def test_the_tiers_a_registration_conditions_on_follow_the_gate_and_early_access():
    assert allowed_tiers(event(), LADDER, NOW) is None  # open to all: no condition on the tier
    assert allowed_tiers(event(min_tier_rank=2), LADDER, NOW) == {"gold", "platinum"}
    early = event(registration_opens_at=NOW + timedelta(hours=24))
    assert allowed_tiers(early, LADDER, NOW) == {"gold"}
    assert allowed_tiers(early, LADDER, NOW + timedelta(hours=13)) == {"gold", "platinum"}
    assert allowed_tiers(early, LADDER, NOW + timedelta(hours=24)) is None
    assert allowed_tiers(early, None, NOW) == frozenset()  # before opening without a ladder: no one yet
    assert allowed_tiers(event(min_tier_rank=1), None, NOW) == frozenset()


def test_a_definition_reports_every_problem_at_once_in_graphql_names():
    bad = event(title=" ", ends_at=NOW, capacity=0, venue=None, points_cost=-1,
                cancellation=CancellationPolicy(24, 101), offer_hold_hours=0,
                registration_opens_at=NOW + timedelta(days=11), registration_closes_at=NOW + timedelta(days=12),
                min_tier_rank=7)
    with pytest.raises(UserErrors) as found:
        definition.validate(bad, tier_ranks=frozenset({1, 2, 3}), badge_exists=True)
    assert {e.field for e in found.value.errors} == {
        "title", "endsAt", "venue", "capacity", "pointsCost", "cancellationPolicy.refundPercent", "offerHoldHours",
        "registrationClosesAt", "registrationOpensAt", "minTierRank"}


def test_the_capacity_may_not_go_below_the_seats_taken_and_a_gate_needs_a_ladder():
    with pytest.raises(UserErrors) as found:
        definition.validate(event(capacity=3, min_tier_rank=1), tier_ranks=None, taken=4)
    assert {(e.field, e.code.value) for e in found.value.errors} == {("capacity", "OUT_OF_RANGE"),
                                                                     ("minTierRank", "INVALID")}
    assert definition.validate(event(capacity=4), taken=4).capacity == 4


def test_a_definition_is_stored_and_read_back_unchanged():
    e = event(online_url="https://live.example/n", registration_opens_at=NOW, min_tier_rank=2, invited_only=True,
              points_cost=30, attendance_points=5, badge_id="vip", cancellation=CancellationPolicy(48, 50),
              offer_mode=OfferMode.HOLD, offer_hold_hours=6, public=True)
    assert definition.from_dict(definition.to_dict(e)) == e


def test_the_head_of_the_waitlist_is_confirmed_and_charged_or_offered_or_skipped_with_its_reason():
    e = event(points_cost=30, min_tier_rank=2)
    confirmed = promote(e, NOW, tier=GOLD, available=30)
    assert (confirmed.state, confirmed.charge, confirmed.fills_seat) == (RegistrationState.CONFIRMED, 30, True)
    held = promote(event(offer_mode=OfferMode.HOLD, offer_hold_hours=24), NOW, tier=None, available=0)
    assert (held.state, held.charge, held.offer_expires_at) == (RegistrationState.OFFERED, 0, NOW + timedelta(hours=24))
    dropped = promote(e, NOW, tier=SILVER, available=100)
    assert (dropped.state, dropped.reason, dropped.fills_seat) == (RegistrationState.CANCELLED, "TIER_REQUIRED", False)
    assert promote(e, NOW, tier=GOLD, available=29).reason == "INSUFFICIENT_POINTS"


def test_an_offer_never_holds_past_the_start():
    soon = event(starts_at=NOW + timedelta(hours=3), ends_at=NOW + timedelta(hours=5), offer_mode=OfferMode.HOLD,
                 offer_hold_hours=24)
    assert promote(soon, NOW, tier=None, available=0).offer_expires_at == NOW + timedelta(hours=3)
