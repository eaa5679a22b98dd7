"""The leaderboards over GraphQL: public rows without member ids, pages with exact pageInfo and ranks across
pages, the 100 cap, who may read a board, typed errors for bad months, and joining and leaving with my rank."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Iterator

import pytest

from domain.leaderboards import periods
from infra.leaderboards import Leaderboards, Seed
from resolvers.schema import build_schema
from tests.api.points_support import ORDER, RETURN, order_input
from tests.api.test_storefront import Shop, own_tenant
from tests.conftest import enroll

PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
BOARD = """query B($p: LeaderboardPeriod!, $m: String, $f: Int, $a: String) {
  leaderboard(period: $p, month: $m, first: $f, after: $a) {
    edges { cursor node { rank displayName score reachedAt } } pageInfo { hasNextPage endCursor } } }"""
MY_RANK = """query R($p: LeaderboardPeriod!) { me { id leaderboardRank(period: $p) { rank exact score approximateWithin } } }"""
JOIN = """mutation J($n: String!) { leaderboardJoin(displayName: $n) {
  member { id leaderboardRank(period: ALL_TIME) { rank exact score } } userErrors { field code message } } }"""
LEAVE = """mutation { leaderboardLeave { member { id leaderboardRank(period: ALL_TIME) { rank } }
  userErrors { field code message } } }"""


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services  # the table exists
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def fill(shop: Shop, scores: list[int]) -> None:
    Leaderboards(shop.tenant).bulk_load(
        [Seed(f"fan-{i:03d}", f"Fan {i}", s, {shop.now.strftime("%Y-%m"): s},
              reached_at=shop.now - timedelta(hours=len(scores) - i)) for i, s in enumerate(scores)],
        shop.now, "UTC")


def board(client, **variables):
    r = client(BOARD, {"p": "ALL_TIME", **variables})
    return r, (r.data or {}).get("leaderboard")


def test_a_row_shows_rank_display_name_score_and_reached_at_ranked_1_2_2_4_and_never_a_member_id(shop):
    fill(shop, [300, 500, 300, 100])
    _, page = board(shop.member(), f=10)
    rows = [e["node"] for e in page["edges"]]
    # Equal scores: whoever reached the score first comes first (Fan 0 an hour before Fan 2).
    assert [(r["rank"], r["displayName"], r["score"]) for r in rows] == [
        (1, "Fan 1", 500), (2, "Fan 0", 300), (2, "Fan 2", 300), (4, "Fan 3", 100)]
    entry = build_schema()._schema.get_type("LeaderboardEntry")
    assert set(entry.fields) == {"rank", "displayName", "score", "reachedAt"}
    assert "never their member id" in entry.description and "embedded value" in entry.description


def test_a_page_that_ends_exactly_at_the_end_of_the_board_says_there_is_no_next_page(shop):
    fill(shop, [30, 20, 10])
    query = "query($f: Int, $a: String) { leaderboard(period: ALL_TIME, first: $f, after: $a) { %s } }" % PAGE
    client = shop.member()
    whole = client.ok(query, {"f": 3})["leaderboard"]
    assert len(whole["edges"]) == 3 and whole["pageInfo"]["hasNextPage"] is False
    assert whole["pageInfo"]["hasPreviousPage"] is False
    assert (whole["pageInfo"]["startCursor"], whole["pageInfo"]["endCursor"]) == (
        whole["edges"][0]["cursor"], whole["edges"][-1]["cursor"])
    part = client.ok(query, {"f": 2})["leaderboard"]
    assert len(part["edges"]) == 2 and part["pageInfo"]["hasNextPage"] is True
    rest = client.ok(query, {"f": 2, "a": part["pageInfo"]["endCursor"]})["leaderboard"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    empty = client.ok(query, {"f": 5, "a": rest["pageInfo"]["endCursor"]})["leaderboard"]
    assert empty["edges"] == [] and empty["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False,
                                                          "startCursor": None, "endCursor": None}


def test_first_500_returns_100_rows_and_the_next_page_continues_the_ranks_through_a_tie(shop):
    # 98 distinct scores, then five members tied at 5 across the page boundary, then one at 1.
    fill(shop, [1000 - i for i in range(98)] + [5] * 5 + [1])
    client = shop.member()
    _, first = board(client, f=500)
    assert len(first["edges"]) == 100 and first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["rank"] for e in first["edges"][97:]] == [98, 99, 99]
    _, rest = board(client, f=500, a=first["pageInfo"]["endCursor"])
    assert [e["node"]["rank"] for e in rest["edges"]] == [99, 99, 99, 104]
    assert rest["pageInfo"]["hasNextPage"] is False
    _, default = board(client)
    assert len(default["edges"]) == 20


def test_without_a_token_a_board_is_readable_only_when_the_program_is_public(shop):
    fill(shop, [10])
    r, page = board(shop.anonymous)
    assert page is None and r.error_codes() == ["UNAUTHENTICATED"]
    out = shop.admin.ok("mutation { programUpdate(input: {public: true}) { userErrors { code } } }")
    assert out["programUpdate"]["userErrors"] == []
    r, page = board(shop.anonymous)
    assert r.errors == [] and [e["node"]["displayName"] for e in page["edges"]] == ["Fan 0"]


@pytest.mark.parametrize("month,reason", [("2026-13", "INVALID"), ("May 2027", "TOO_LONG"), ("2027/05", "INVALID"),
                                          ("1999-01", "OUT_OF_RANGE"), ("", "REQUIRED")])
def test_a_month_that_is_not_yyyy_mm_is_a_typed_error(shop, month, reason):
    r, page = board(shop.member(), p="MONTH", m=month)
    assert page is None and r.error_codes() == ["BAD_USER_INPUT"], r.body
    assert r.errors[0]["extensions"]["field"] == "month" and r.errors[0]["extensions"]["reason"] == reason


def test_a_month_outside_the_kept_window_or_a_month_for_the_all_time_board_is_refused_by_name(shop):
    client = shop.member()
    for variables, code in (({"p": "MONTH", "m": "2026-04"}, "OUT_OF_RANGE"),
                            ({"p": "MONTH", "m": "2027-06"}, "OUT_OF_RANGE"),
                            ({"p": "ALL_TIME", "m": "2027-05"}, "INVALID")):
        r, _ = board(client, **variables)
        assert r.error_codes() == [code] and r.errors[0]["extensions"]["field"] == "month", r.body
    r, page = board(client, p="MONTH", m="2026-05")
    assert r.errors == [] and page["edges"] == []


def test_the_month_board_by_default_is_the_current_local_month(shop):
    fill(shop, [40])
    client = shop.member()
    _, page = board(client, p="MONTH")
    assert [e["node"]["score"] for e in page["edges"]] == [40]
    shop.now = shop.now.replace(day=1) + timedelta(days=40)  # next month: nobody has points there yet
    _, page = board(client, p="MONTH")
    assert page["edges"] == []
    _, page = board(client, p="MONTH", m=(shop.now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))
    assert [e["node"]["score"] for e in page["edges"]] == [40]


def test_joining_shows_my_points_leaving_hides_me_everywhere_and_a_refund_lowers_my_score(shop, events):
    fill(shop, [5000, 50])
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    me = shop.anonymous.as_(shop.idp.member_token(member_id))
    assert me.ok(JOIN, {"n": "Kai"})["leaderboardJoin"]["userErrors"][0]["code"] == "NOT_ENROLLED"
    enroll(me)
    assert me.ok(MY_RANK, {"p": "ALL_TIME"})["me"]["leaderboardRank"] is None

    order = order_input(member_id, order_id="lb-1", ordered_at=shop.now,
                        lines=[{"id": "1", "quantity": 1, "price": "20000"}, {"id": "2", "quantity": 1, "price": "10000"}],
                        subtotal="30000", total="30000")
    assert shop.service.ok(ORDER, {"input": order})["orderRecord"]["userErrors"] == []
    events.drain()
    assert me.ok(MY_RANK, {"p": "ALL_TIME"})["me"]["leaderboardRank"] is None  # not joined: not on a board

    joined = me.ok(JOIN, {"n": "  Kai  "})["leaderboardJoin"]
    assert joined["userErrors"] == [] and joined["member"]["leaderboardRank"] == {"rank": 2, "exact": True,
                                                                                   "score": 300}
    _, page = board(me)
    assert [(e["node"]["displayName"], e["node"]["rank"]) for e in page["edges"]] == [
        ("Fan 0", 1), ("Kai", 2), ("Fan 1", 3)]

    refund = {"orderId": "lb-1", "returnId": "lb-1-r1", "resolution": "REFUND",
              "lines": [{"lineItemId": "1", "amount": "20000"}]}
    assert shop.service.ok(RETURN, {"input": refund})["orderReturnRecord"]["userErrors"] == []
    events.drain()
    mine = me.ok(MY_RANK, {"p": "MONTH"})["me"]["leaderboardRank"]
    assert mine == {"rank": 2, "exact": True, "score": 100, "approximateWithin": 0}  # Fan 0 5000, Fan 1 50

    left = me.ok(LEAVE)["leaderboardLeave"]
    assert left["userErrors"] == [] and left["member"]["leaderboardRank"] is None
    for period in ("ALL_TIME", "MONTH"):
        _, page = board(me, p=period)
        assert "Kai" not in [e["node"]["displayName"] for e in page["edges"]]
        assert me.ok(MY_RANK, {"p": period})["me"]["leaderboardRank"] is None


def test_a_display_name_is_required_and_bounded(shop):
    me = shop.member()
    for name, code in (("   ", "REQUIRED"), ("x" * (periods.DISPLAY_NAME_MAX + 1), "TOO_LONG"), ("a\u0007b", "INVALID")):
        out = me.ok(JOIN, {"n": name})["leaderboardJoin"]
        assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("displayName", code)]


def test_only_a_member_joins_or_leaves(shop):
    assert shop.anonymous(LEAVE).error_codes() == ["UNAUTHENTICATED"]
    assert shop.service(JOIN, {"n": "Shop"}).error_codes() == ["FORBIDDEN"]
