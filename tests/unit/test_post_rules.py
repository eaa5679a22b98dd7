"""The rules of posts as plain functions: submissions checked all at once, which moves are allowed,
auto-approval, and the settings' round trip and bounds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ErrorCode, UserError, UserErrors
from domain.posts import rules
from domain.posts.rules import PostState, Stats, auto_approves, check_edit, check_submission
from domain.posts.settings import Period, PostSettings, RemovalPolicy, validate
from domain.posts.urls import Platform

NOW = datetime(2027, 5, 10, 12, tzinfo=timezone.utc)


def problems(call) -> dict[str, ErrorCode]:
    with pytest.raises(UserErrors) as e:
        call()
    return {p.field: p.code for p in e.value.errors}


def test_a_submission_is_normalised_tags_lowercased_deduplicated_and_stripped_of_their_hash():
    sub = check_submission(Platform.X, "https://twitter.com/a/status/1?s=20", "  Hello\nworld  ",
                           ["#Skin", "skin", "Hair_Care"], ["https://img.example/a.jpg"], "  Aiko ", None)
    assert sub.url == "https://x.com/a/status/1" and sub.caption == "Hello\nworld"
    assert sub.tags == ("skin", "hair_care") and sub.display_name == "Aiko" and sub.media_urls == (
        "https://img.example/a.jpg",)


def test_every_problem_of_a_submission_is_reported_together():
    found = problems(lambda: check_submission(Platform.INSTAGRAM, "data:text/html,x", "bad\x00caption",
                                              ["ok", "no way", *["t"] * 10], ["http://img.example/a.jpg"],
                                              "x" * 51, None))
    assert found["url"] is ErrorCode.INVALID and found["caption"] is ErrorCode.INVALID
    assert found["tags"] is ErrorCode.OUT_OF_RANGE and found["tags.1"] is ErrorCode.INVALID
    assert found["mediaUrls.0"] is ErrorCode.INVALID and found["displayName"] is ErrorCode.TOO_LONG


@pytest.mark.parametrize("caption", ["a\x1b[2J", "zero\u200bwidth", "bidi\u202eevil", "bell\x07"])
def test_control_and_invisible_formatting_characters_are_refused_in_captions(caption):
    assert problems(lambda: check_submission(Platform.BLOG, "https://b.example/p", caption, None, None, None,
                                             None)) == {"caption": ErrorCode.INVALID}


def test_a_caption_of_the_limit_passes_and_one_more_character_does_not():
    assert len(check_submission(Platform.BLOG, "https://b.example/p", "x" * 2200, None, None, None, None).caption) == 2200
    assert problems(lambda: check_submission(Platform.BLOG, "https://b.example/p", "x" * 2201, None, None, None,
                                             None)) == {"caption": ErrorCode.TOO_LONG}


def test_an_edit_checks_only_what_was_sent_and_null_clears():
    assert check_edit(None, None, None, None, sent={"display_name"}) == {"display_name": None}
    assert check_edit("New", ["#A"], None, None, sent={"caption", "tags"}) == {"caption": "New", "tags": ("a",)}
    assert problems(lambda: check_edit("\x01", None, None, None, sent={"caption"})) == {"caption": ErrorCode.INVALID}


@pytest.mark.parametrize("check, state, allowed", [
    (rules.may_approve, PostState.PENDING, True), (rules.may_approve, PostState.REJECTED, True),
    (rules.may_approve, PostState.APPROVED, False), (rules.may_approve, PostState.REMOVED, False),
    (rules.may_reject, PostState.PENDING, True), (rules.may_reject, PostState.APPROVED, True),
    (rules.may_reject, PostState.REJECTED, False), (rules.may_reject, PostState.REMOVED, False),
    (lambda s: rules.may_remove(s, by_member=False), PostState.APPROVED, True),
    (lambda s: rules.may_remove(s, by_member=False), PostState.PENDING, False),
    (lambda s: rules.may_remove(s, by_member=True), PostState.PENDING, True),
    (lambda s: rules.may_remove(s, by_member=True), PostState.REMOVED, False),
])
def test_which_decisions_each_state_allows(check, state, allowed):
    if allowed:
        check(state)
    else:
        with pytest.raises(UserError) as e:
            check(state)
        assert e.value.code is ErrorCode.INVALID_STATE


def test_auto_approval_by_rank_or_by_a_clean_record():
    by_rank = PostSettings(auto_approve_min_rank=2)
    assert auto_approves(by_rank, 2, Stats(), NOW) and auto_approves(by_rank, 3, Stats(), NOW)
    assert not auto_approves(by_rank, 1, Stats(), NOW) and not auto_approves(by_rank, None, Stats(), NOW)
    by_record = PostSettings(auto_approve_after_posts=3, auto_approve_clean_days=30)
    assert auto_approves(by_record, None, Stats(3, None), NOW)
    assert not auto_approves(by_record, None, Stats(2, None), NOW)
    assert not auto_approves(by_record, None, Stats(5, NOW - timedelta(days=29)), NOW)
    assert auto_approves(by_record, None, Stats(5, NOW - timedelta(days=31)), NOW)
    assert not auto_approves(PostSettings(), 10, Stats(100), NOW)


def test_settings_survive_their_round_trip_and_an_old_stored_form_reads_with_defaults():
    s = PostSettings(enabled=True, points_per_post=10, unboxing_points=100, hold_days=14, cap=5, period=Period.WEEK,
                     removal_policy=RemovalPolicy.KEEP, reward_id="thanks", auto_approve_min_rank=3,
                     auto_approve_after_posts=4, auto_approve_clean_days=60, unboxing_window_days=21)
    assert PostSettings.from_dict(s.to_dict()) == s
    assert PostSettings.from_dict({"enabled": True}) == PostSettings(enabled=True)
    assert PostSettings.from_dict(None) == PostSettings()


def test_settings_out_of_range_are_reported_together():
    found = problems(lambda: validate(PostSettings(points_per_post=-1, hold_days=400, cap=0, unboxing_window_days=0,
                                                   reward_id="a#b")))
    assert set(found) == {"pointsPerPost", "holdDays", "cap", "unboxingWindowDays", "rewardId"}
    assert rules.release_at(PostSettings(hold_days=7), NOW) == NOW + timedelta(days=7)
    assert rules.release_at(PostSettings(), NOW) is None


def test_post_items_in_a_members_partition_sort_outside_the_dashboard_range_and_before_the_outbox():
    from infra import keys
    for sk in (keys.post_sk("01HZZZZZZZZZZZZZZZZZZZZZZZ"), keys.POST_STATS_SK, keys.unbox_sk("o-1")):
        assert not keys.DASHBOARD_FROM <= sk <= keys.DASHBOARD_TO, sk
        assert sk < keys.OUTBOX_PREFIX and not sk.startswith(keys.LEDGER_PREFIX), sk
