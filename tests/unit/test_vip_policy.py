"""What a VIP registration gets back when it ends unattended, what a no-show costs, and what a scan decides."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ErrorCode, UserError, UserErrors
from domain.vip_events import checkin, policy
from domain.vip_events.checkin import CheckInAnswer, Outcome
from domain.vip_events.model import CancellationPolicy, EventStatus, RegistrationState
from domain.vip_events.settings import VipEventSettings

START = datetime(2027, 4, 1, 19, tzinfo=timezone.utc)
S = RegistrationState


def test_a_members_cancellation_refunds_the_promised_share_until_the_deadline_and_nothing_after():
    promise = CancellationPolicy(refund_until_hours=48, refund_percent=75)
    deadline = START - timedelta(hours=48)
    assert policy.member_cancellation_refund(promise, 101, START, deadline, S.CONFIRMED) == 75  # rounded down
    assert policy.member_cancellation_refund(promise, 101, START, deadline + timedelta(seconds=1), S.CONFIRMED) == 0
    assert policy.member_cancellation_refund(CancellationPolicy(0, 100), 40, START, START, S.CONFIRMED) == 40


def test_no_refund_after_check_in_or_a_no_show_or_for_what_was_never_paid():
    generous = CancellationPolicy(refund_until_hours=0, refund_percent=100)
    early = START - timedelta(days=10)
    assert [policy.member_cancellation_refund(generous, 50, START, early, s) for s in (S.ATTENDED, S.NO_SHOW)] == [0, 0]
    assert policy.member_cancellation_refund(generous, 0, START, early, S.WAITLISTED) == 0


def test_a_cancelled_event_refunds_everything_paid_to_every_registration_it_ends():
    assert [policy.event_cancellation_refund(60, s) for s in S] == [
        60 if s in (S.CONFIRMED, S.OFFERED, S.WAITLISTED) else 0 for s in S]
    assert policy.event_cancellation_refund(-5, S.CONFIRMED) == 0


def test_a_no_show_keeps_or_refunds_the_cost_as_the_program_says():
    now = START + timedelta(hours=4)
    assert policy.no_show(VipEventSettings(forfeit_no_show_points=True), 80, [], now).refund == 0
    assert policy.no_show(VipEventSettings(forfeit_no_show_points=False), 80, [], now).refund == 80


def test_reaching_the_limit_within_the_window_blocks_and_older_no_shows_fall_out():
    rules = VipEventSettings(no_show_limit=3, no_show_window_days=90, no_show_block_days=30)
    now = START
    inside = [(now - timedelta(days=d)).isoformat() for d in (80, 10)]
    outside = [(now - timedelta(days=91)).isoformat()]
    blocked = policy.no_show(rules, 0, outside + inside, now)
    assert blocked.blocked_until == now + timedelta(days=30) and blocked.times == (*inside, now.isoformat())
    two = policy.no_show(rules, 0, outside + inside[1:], now)
    assert two.blocked_until is None and len(two.times) == 2


def test_without_a_limit_nobody_is_blocked_and_only_the_last_no_show_is_kept():
    out = policy.no_show(VipEventSettings(), 0, [START.isoformat()] * 5, START + timedelta(days=1))
    assert out.blocked_until is None and out.times == ((START + timedelta(days=1)).isoformat(),)


def test_settings_report_every_problem_at_once_and_survive_the_round_trip():
    with pytest.raises(UserErrors) as e:
        VipEventSettings(no_show_limit=0, no_show_window_days=0, no_show_block_days=4000).validate()
    assert sorted(x.field for x in e.value.errors) == ["noShowBlockDays", "noShowLimit", "noShowWindowDays"]
    s = VipEventSettings(forfeit_no_show_points=False, no_show_limit=2, no_show_window_days=30, no_show_block_days=7)
    assert VipEventSettings.from_dict(s.to_dict()) == s
    assert VipEventSettings.from_dict(None) == VipEventSettings()


def test_a_scan_checks_in_only_a_confirmed_ticket_of_a_running_event_and_never_the_scanners_own():
    ends = START + timedelta(hours=3)
    checkin.check_door(EventStatus.SCHEDULED, START, ends, START - checkin.CHECK_IN_OPENS_BEFORE)
    checkin.check_door(EventStatus.SCHEDULED, START, ends, ends)
    for status, at, code in ((EventStatus.CANCELLED, START, ErrorCode.EVENT_CANCELLED),
                             (EventStatus.SCHEDULED, START - timedelta(hours=3, seconds=1), ErrorCode.NOT_AVAILABLE),
                             (EventStatus.SCHEDULED, ends + timedelta(seconds=1), ErrorCode.NOT_AVAILABLE)):
        with pytest.raises(UserError) as e:
            checkin.check_door(status, START, ends, at)
        assert e.value.code is code
    checkin.check_ticket(S.CONFIRMED)
    for state in (S.WAITLISTED, S.OFFERED, S.CANCELLED, S.NO_SHOW):
        with pytest.raises(UserError) as e:
            checkin.check_ticket(state)
        assert e.value.code is ErrorCode.INVALID_STATE
    with pytest.raises(UserError) as e:
        checkin.check_scanner("m-1", "m-1")
    assert e.value.code is ErrorCode.SELF_CHECK_IN
    checkin.check_scanner("staff-9", "m-1")


def test_the_code_is_looked_up_by_its_hash_and_an_answer_survives_being_stored():
    assert checkin.code_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    answer = CheckInAnswer(Outcome.CHECKED_IN, "ev-1", "m-1", START, "staff:door", 120, "vip-badge")
    assert CheckInAnswer.from_dict(answer.to_dict()) == answer
