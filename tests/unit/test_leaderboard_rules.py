"""Leaderboard rules: competition ranks with the tiebreak, ranks across pages, score keys that sort as the
board does, the histogram's rank bound, and month boards by the program's local month."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ErrorCode, UserError
from domain.leaderboards import histogram, periods, ranking, score_keys
from domain.leaderboards.ranking import Standing

T0 = datetime(2027, 1, 10, tzinfo=timezone.utc)


def test_equal_scores_share_a_rank_and_the_next_rank_skips_1_2_2_4():
    assert ranking.ranks([90, 80, 80, 70]) == [1, 2, 2, 4]
    assert ranking.ranks([5, 5, 5]) == [1, 1, 1]


def test_among_equal_scores_who_reached_the_score_first_is_listed_first_then_the_member_id():
    board = ranking.ordered([Standing("b", 50, T0), Standing("a", 50, T0 + timedelta(seconds=1)),
                             Standing("c", 50, T0), Standing("z", 60, T0 + timedelta(days=1))])
    assert [s.member_id for s in board] == ["z", "b", "c", "a"]
    assert ranking.competition_ranks(board) == {"z": 1, "b": 2, "c": 2, "a": 2}


def test_ranks_continue_across_a_page_boundary_inside_a_tie():
    scores = [100, 90, 90, 90, 80, 70, 70]
    first = ranking.ranks(scores[:3])
    place = ranking.place_after(ranking.START, scores[:3])
    assert first + ranking.ranks(scores[3:], place) == ranking.ranks(scores) == [1, 2, 2, 2, 5, 6, 6]


def test_score_keys_read_backward_give_the_board_order():
    rng = random.Random(7)
    standings = [Standing(f"m{rng.randint(0, 50)}{'x' * rng.randint(0, 2)}", rng.randint(0, 30),
                          T0 + timedelta(milliseconds=rng.randint(0, 5))) for _ in range(400)]
    standings = list({s.member_id: s for s in standings}.values())
    by_key = sorted(standings, key=lambda s: score_keys.score_key(s.score, s.reached_at, s.member_id), reverse=True)
    assert by_key == ranking.ordered(standings)


def test_a_score_key_is_fixed_width_up_front_and_decodes_back():
    key = score_keys.score_key(1234, T0, "member-1")
    assert key.startswith("000000000001234#") and score_keys.decode(key) == (1234, T0, "member-1")
    assert score_keys.floor(1235) > key > score_keys.floor(1234)


def test_every_higher_score_sorts_at_or_above_the_floor_of_the_next_score_and_nothing_else_does():
    keys = {s: score_keys.score_key(s, T0 + timedelta(days=s % 3), f"m{s}") for s in range(0, 2000, 7)}
    for s in (0, 7, 700, 1995):
        higher = {k for score, k in keys.items() if score > s}
        assert {k for k in keys.values() if k >= score_keys.floor(s + 1)} == higher


def test_buckets_are_exact_below_64_and_about_3_percent_wide_above():
    assert [histogram.bucket_range(histogram.bucket(s)) for s in (0, 1, 63)] == [(0, 1), (1, 2), (63, 64)]
    for s in (64, 1000, 123_456, 10 ** 9):
        lo, hi = histogram.bucket_range(histogram.bucket(s))
        assert lo <= s < hi and (hi - lo) <= max(1, lo // 32)


def test_the_estimate_is_within_its_stated_bound_of_the_true_rank():
    rng = random.Random(3)
    scores = [int(rng.paretovariate(1.2) * 10) for _ in range(5000)]
    counts: dict[int, int] = {}
    for s in scores:
        counts[histogram.bucket(s)] = counts.get(histogram.bucket(s), 0) + 1
    for s in rng.sample(scores, 300):
        truth = 1 + sum(1 for x in scores if x > s)
        est = histogram.estimate(counts, s)
        assert est.low <= truth <= est.high and abs(est.rank - truth) <= est.within
        assert est.within <= counts[histogram.bucket(s)] - 1


def test_a_member_alone_in_their_bucket_gets_an_exact_estimate():
    counts = {histogram.bucket(5000): 3, histogram.bucket(40): 1, histogram.bucket(3): 7}
    est = histogram.estimate(counts, 40)
    assert (est.rank, est.within) == (4, 0)


def test_the_month_board_is_the_programs_local_month_and_turns_over_at_local_midnight():
    last_minute = datetime(2027, 1, 31, 14, 59, tzinfo=timezone.utc)  # 23:59 in Tokyo
    first_minute = datetime(2027, 1, 31, 15, 1, tzinfo=timezone.utc)  # 00:01 on 1 February in Tokyo
    month = periods.Period.MONTH
    assert periods.board_key(month, None, last_minute, "Asia/Tokyo") == "2027-01"
    assert periods.board_key(month, None, first_minute, "Asia/Tokyo") == "2027-02"
    assert periods.board_key(month, None, first_minute, "UTC") == "2027-01"
    ny = datetime(2027, 3, 1, 4, 59, tzinfo=timezone.utc)  # 23:59 on 28 February in New York (EST)
    assert periods.board_key(month, None, ny, "America/New_York") == "2027-02"
    assert periods.board_key(month, None, ny + timedelta(minutes=2), "America/New_York") == "2027-03"
    assert periods.board_key(periods.Period.ALL_TIME, None, ny, "UTC") == periods.ALL_TIME_BOARD


def test_a_month_outside_the_kept_thirteen_or_a_month_on_the_all_time_board_is_refused():
    now = datetime(2027, 5, 10, tzinfo=timezone.utc)
    assert periods.board_key(periods.Period.MONTH, "2026-05", now, "UTC") == "2026-05"
    for month in ("2026-04", "2027-06"):
        with pytest.raises(UserError) as e:
            periods.board_key(periods.Period.MONTH, month, now, "UTC")
        assert e.value.code is ErrorCode.OUT_OF_RANGE and e.value.field == "month"
    with pytest.raises(UserError) as e:
        periods.board_key(periods.Period.ALL_TIME, "2027-05", now, "UTC")
    assert e.value.code is ErrorCode.INVALID


@pytest.mark.parametrize("raw,code", [("2026-13", ErrorCode.INVALID), ("2026-1", ErrorCode.INVALID),
                                      ("November", ErrorCode.TOO_LONG), ("1999-12", ErrorCode.OUT_OF_RANGE),
                                      ("", ErrorCode.REQUIRED), ("2026/11", ErrorCode.INVALID)])
def test_a_month_that_is_not_yyyy_mm_in_range_is_a_typed_error(raw, code):
    checked = periods.check_month(raw)
    assert isinstance(checked, UserError) and checked.code is code


def test_a_month_board_expires_when_its_month_leaves_the_window_and_the_all_time_board_never():
    assert periods.expires_at("2027-01", "Asia/Tokyo") == int(datetime(2028, 1, 31, 15, tzinfo=timezone.utc).timestamp())
    assert periods.expires_at(periods.ALL_TIME_BOARD, "Asia/Tokyo") is None


def test_display_names_are_one_bounded_line():
    assert periods.check_display_name("  Aiko \n T. ") == "Aiko T."
    assert periods.check_display_name("x" * 41).code is ErrorCode.TOO_LONG
    assert periods.check_display_name("   ").code is ErrorCode.REQUIRED
