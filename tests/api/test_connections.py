"""Every connection through the one helper: exact pageInfo, the 100 cap, and cursors bound to their list."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from domain.members import Enrollment
from domain.points.rewards import Reward, RewardKind
from infra.members import Members
from infra.points.program_store import ProgramStore
from infra.webhooks import WebhookFailures
from tests.api.points_support import ADJUST
from tests.api.test_storefront import Shop, own_tenant
from tests.conftest import enroll


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services  # the table exists
    yield from own_tenant(dynamodb_endpoint, table_name, idp)

MEMBER_HISTORY = """query H($id: ID!, $first: Int, $after: String, $types: [EntryType!]) { member(id: $id) {
  pointsHistory(first: $first, after: $after, types: $types) { edges { cursor node { id points } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
FORGED = base64.urlsafe_b64encode(json.dumps({"PK": {"S": "T#alpha#M#me"}, "SK": {"S": "TX#0"}}).encode()).decode()


def give(admin, member_id, n, times):
    for _ in range(times):
        out = admin.ok(ADJUST, {"memberId": member_id, "points": n, "reason": "test"})["pointsAdjust"]
        assert out["userErrors"] == [], out


def history(client, member_id, **variables):
    r = client(MEMBER_HISTORY, {"id": member_id, **variables})
    return r, (r.data or {}).get("member") and r.data["member"]["pointsHistory"]


def test_paging_walks_every_entry_once_and_has_next_page_is_false_on_the_last_full_page(admin, enrolled, member_id):
    give(admin, member_id, 1, 6)
    seen, after, pages = [], None, 0
    while True:
        _, page = history(admin, member_id, first=3, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is False
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 2 and len(seen) == len(set(seen)) == 6  # no empty third page behind a true hasNextPage


def test_first_is_capped_at_100_with_more_than_100_items(admin, enrolled, member_id):
    give(admin, member_id, 1, 105)
    _, page = history(admin, member_id, first=1000)
    assert len(page["edges"]) == 100 and page["pageInfo"]["hasNextPage"] is True
    _, rest = history(admin, member_id, first=100, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 5 and rest["pageInfo"]["hasNextPage"] is False


CONNECTIONS = [
    "{ me { pointsHistory(first: 2, after: $a) { edges { cursor } } } }",
    "{ me { redemptions(first: 2, after: $a) { edges { cursor } } } }",
]
STAFF_CONNECTIONS = [
    "{ members(first: 2, after: $a) { edges { cursor } } }",
    "{ auditTrail(first: 2, after: $a) { edges { cursor } } }",
]


@pytest.mark.parametrize("query", CONNECTIONS)
def test_a_forged_or_tampered_cursor_on_a_member_connection_is_bad_user_input(enrolled, query):
    for cursor in (FORGED, "not-a-cursor", "A" * 2000):
        r = enrolled("query($a: String) " + query, {"a": cursor})
        assert r.status == 200 and r.error_codes() == ["BAD_USER_INPUT"], r.body
        assert r.errors[0]["extensions"]["field"] == "after"


@pytest.mark.parametrize("query", STAFF_CONNECTIONS)
def test_a_forged_cursor_on_a_staff_connection_is_bad_user_input(admin, query):
    r = admin("query($a: String) " + query, {"a": FORGED})
    assert r.status == 200 and r.error_codes() == ["BAD_USER_INPUT"], r.body


def test_a_cursor_reveals_neither_tenant_nor_keys(admin, enrolled, member_id, tenant):
    give(admin, member_id, 1, 2)
    _, page = history(admin, member_id, first=1)
    cursor = page["edges"][0]["cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert tenant.encode() not in raw and b"PK" not in raw and member_id.encode() not in raw


def test_a_cursor_opens_only_for_the_list_and_the_caller_it_came_from(admin, client, idp, enrolled, member_id):
    other_id = f"m-{uuid.uuid4().hex[:10]}"
    other = client.as_(idp.member_token(other_id))
    enroll(other)
    give(admin, member_id, 1, 3)
    give(admin, other_id, 1, 3)
    _, page = history(admin, member_id, first=1)
    cursor = page["pageInfo"]["endCursor"]
    assert history(admin, member_id, first=1, after=cursor)[0].errors == []
    # another member's list, another filter, another caller: each refuses it
    assert history(admin, other_id, first=1, after=cursor)[0].error_codes() == ["BAD_USER_INPUT"]
    assert history(admin, member_id, first=1, after=cursor, types=["ADJUSTMENT"])[0].error_codes() == [
        "BAD_USER_INPUT"]
    other_staff = client.as_(idp.staff_token("staff-2", "kizuna-admins"))
    assert history(other_staff, member_id, first=1, after=cursor)[0].error_codes() == ["BAD_USER_INPUT"]
    own = enrolled("query($a: String) { me { pointsHistory(first: 1, after: $a) { edges { cursor } } } }",
                   {"a": cursor})
    assert own.error_codes() == ["BAD_USER_INPUT"]


def test_a_cursor_expires_after_a_day(admin, enrolled, member_id, clock):
    give(admin, member_id, 1, 2)
    _, page = history(admin, member_id, first=1)
    cursor = page["pageInfo"]["endCursor"]
    clock.set(clock() + timedelta(hours=25))
    r, _ = history(admin, member_id, first=1, after=cursor)
    assert r.error_codes() == ["BAD_USER_INPUT"]


# -- pageInfo at the edges, on every connection, in a tenant of its own ----------------------------------

def _first(client, query: str, path: tuple[str, ...], **variables):
    data = client.ok(query, variables)
    for key in path:
        data = data[key]
    return data


PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def _fill_members(shop, n):
    for _ in range(n):
        shop.member()
    return shop.admin, "query($f: Int, $a: String) { members(first: $f, after: $a) { %s } }" % PAGE, ("members",)


def _fill_audit(shop, n):
    for days in range(n):
        out = shop.admin.ok("mutation($d: Int) { programUpdate(input: {returnWindowDays: $d}) { userErrors { code } } }",
                            {"d": 10 + days})
        assert out["programUpdate"]["userErrors"] == []
    return shop.admin, "query($f: Int, $a: String) { auditTrail(first: $f, after: $a) { %s } }" % PAGE, ("auditTrail",)


def _fill_webhook_failures(shop, n):
    for _ in range(n):
        WebhookFailures(shop.tenant).keep(topic="orders/paid", webhook_id=None, errors=[], body=b"{}",
                                          now=datetime.now(timezone.utc), correlation_id=None)
    return (shop.admin, "query($f: Int, $a: String) { webhookFailures(first: $f, after: $a) { %s } }" % PAGE,
            ("webhookFailures",))


def _fill_rewards(shop, n):
    for i in range(n):
        shop.reward(f"r{i}", 10 + i)
    return shop.member(), "query($f: Int, $a: String) { rewards(first: $f, after: $a) { %s } }" % PAGE, ("rewards",)


def _fill_summary_rewards(shop, n):
    client, _, _ = _fill_rewards(shop, n)
    return (client, "query($f: Int, $a: String) { programSummary { rewards(first: $f, after: $a) { %s } } }" % PAGE,
            ("programSummary", "rewards"))


def _fill_history(shop, n):
    member = shop.member()
    member_id = member.ok("{ me { memberId } }")["me"]["memberId"]
    for _ in range(n):
        out = shop.admin.ok(ADJUST, {"memberId": member_id, "points": 5, "reason": "edge"})["pointsAdjust"]
        assert out["userErrors"] == []
    return member, "query($f: Int, $a: String) { me { pointsHistory(first: $f, after: $a) { %s } } }" % PAGE, (
        "me", "pointsHistory")


def _fill_redemptions(shop, n):
    shop.reward("cheap", 1)
    member = shop.member(points=n)
    for _ in range(n):
        out = member.ok('mutation { rewardRedeem(rewardId: "cheap") { userErrors { code } } }')["rewardRedeem"]
        assert out["userErrors"] == []
    return member, "query($f: Int, $a: String) { me { redemptions(first: $f, after: $a) { %s } } }" % PAGE, (
        "me", "redemptions")


def _fill_tier_history(shop, n):
    ladder = """mutation { tierLadderSet(input: {tiers: [{id: "bronze", name: "Bronze", rank: 1, threshold: "0"},
        {id: "silver", name: "Silver", rank: 2, threshold: "500"}, {id: "gold", name: "Gold", rank: 3, threshold: "900"}]})
        { userErrors { code } } }"""
    assert shop.admin.ok(ladder)["tierLadderSet"]["userErrors"] == []
    member = shop.member()
    member_id = member.ok("{ me { memberId } }")["me"]["memberId"]
    for i in range(n):  # Bronze -> Gold -> Silver -> Gold ...: each one change in the history
        out = shop.admin.ok("""mutation($m: ID!, $t: ID!) { memberTierSet(memberId: $m, tierId: $t, mode: OVERRIDE,
            reason: "edge") { userErrors { code } } }""", {"m": member_id, "t": "gold" if i % 2 == 0 else "silver"})
        assert out["memberTierSet"]["userErrors"] == []
    return member, "query($f: Int, $a: String) { me { tier { history(first: $f, after: $a) { %s } } } }" % PAGE, (
        "me", "tier", "history")


EVERY_CONNECTION = [_fill_members, _fill_audit, _fill_webhook_failures, _fill_rewards, _fill_summary_rewards,
                    _fill_history, _fill_redemptions, _fill_tier_history]
# Every connection field of the schema, and where its exactly-at-the-end test lives: a fill above, or the
# test module of its feature (which must query it with `first`). A new connection fails the walk below
# until it is listed here with its test.
CONNECTION_TESTS = {
    "Query.members": _fill_members, "Query.auditTrail": _fill_audit, "Query.webhookFailures": _fill_webhook_failures,
    "Query.rewards": _fill_rewards, "ProgramSummary.rewards": _fill_summary_rewards,
    "Member.pointsHistory": _fill_history, "Member.redemptions": _fill_redemptions,
    "MemberTier.history": _fill_tier_history,
    "Query.badges": "tests/api/test_badges_api.py", "Member.badges": "tests/api/test_badges_api.py",
    "Query.challenges": "tests/api/test_badges_api.py", "Member.challenges": "tests/api/test_badges_api.py",
    "Query.leaderboard": "tests/api/test_leaderboards.py",
    "Query.communityFeed": "tests/api/test_posts_api.py", "Query.moderationQueue": "tests/api/test_posts_api.py",
    "Member.posts": "tests/api/test_posts_api.py",
    "Member.eventTickets": "tests/api/test_vip_tickets_api.py",
    "Query.vipEvents": "tests/api/test_vip_events_api.py",
    "Query.webhookEndpoints": "tests/api/test_webhook_endpoints_api.py",
    "Query.webhookDeadLetters": "tests/integration/test_events_out_delivery.py",
    "Query.lapsedMembers": "tests/api/test_lifecycle_api.py",
    "Query.partners": "tests/api/test_partners_api.py", "Member.partnerLookups": "tests/api/test_partners_api.py",
}


def test_every_connection_in_the_schema_has_a_test_of_a_page_ending_exactly_at_the_end():
    from pathlib import Path

    from graphql import GraphQLObjectType, get_named_type

    from resolvers.schema import build_schema
    schema = build_schema()._schema
    found = {f"{name}.{field}" for name, t in schema.type_map.items()
             if isinstance(t, GraphQLObjectType) and not name.startswith("__")
             for field, definition in t.fields.items() if get_named_type(definition.type).name.endswith("Connection")}
    assert found == set(CONNECTION_TESTS), f"list each connection with its test: {found ^ set(CONNECTION_TESTS)}"
    root = Path(__file__).resolve().parents[2]
    for field, where in CONNECTION_TESTS.items():
        if isinstance(where, str):
            text = (root / where).read_text()
            name = field.split(".")[1]
            assert any(f"{name}({args}first: $f, after: $a)" in text for args in ("", "period: ALL_TIME, ")), (
                field, where)


@pytest.mark.parametrize("fill", EVERY_CONNECTION, ids=[f.__name__.removeprefix("_fill_") for f in EVERY_CONNECTION])
def test_a_page_that_ends_exactly_at_the_end_of_the_list_says_there_is_no_next_page(shop, fill):
    client, query, path = fill(shop, 3)
    whole = _first(client, query, path, f=3)
    assert len(whole["edges"]) == 3 and whole["pageInfo"]["hasNextPage"] is False
    assert whole["pageInfo"]["hasPreviousPage"] is False
    assert (whole["pageInfo"]["startCursor"], whole["pageInfo"]["endCursor"]) == (
        whole["edges"][0]["cursor"], whole["edges"][-1]["cursor"])
    part = _first(client, query, path, f=2)
    assert len(part["edges"]) == 2 and part["pageInfo"]["hasNextPage"] is True
    rest = _first(client, query, path, f=2, a=part["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    empty = _first(client, query, path, f=5, a=rest["pageInfo"]["endCursor"])
    assert empty["edges"] == [] and empty["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False,
                                                          "startCursor": None, "endCursor": None}


def test_first_500_over_more_than_100_members_and_rewards_returns_exactly_100_and_says_there_are_more(shop):
    now = datetime.now(timezone.utc)
    members, store = Members(shop.tenant), ProgramStore(shop.tenant, shop.api.services.programs)
    shopper = shop.member()  # one of the 101 members
    for i in range(100):
        members.enroll(f"m-cap-{i:03d}", Enrollment(f"Member {i}", f"cap{i}@example.com", None, False),
                       now.isoformat(), int(now.timestamp()))
    for i in range(101):
        store.save_reward(Reward(f"cap-{i:03d}", f"Reward {i}", RewardKind.CUSTOM, 10 + i), "test", now)
    for client, query, path in (
            (shop.admin, "query($f: Int, $a: String) { members(first: $f, after: $a) { %s } }" % PAGE, ("members",)),
            (shopper, "query($f: Int, $a: String) { rewards(first: $f, after: $a) { %s } }" % PAGE,
             ("rewards",))):
        page = _first(client, query, path, f=500)
        assert len(page["edges"]) == 100 and page["pageInfo"]["hasNextPage"] is True, path
        rest = _first(client, query, path, f=500, a=page["pageInfo"]["endCursor"])
        assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False, path
        default = _first(client, query, path)
        assert len(default["edges"]) == 20 and default["pageInfo"]["hasNextPage"] is True
