"""Badges, challenges and streaks over GraphQL: catalog and `me` fields, secret badges, staff saves with typed
userErrors (every problem at once), joining a challenge, and pageInfo at the edges of each connection."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

import pytest

from infra import keys
from infra.events.model import Env, Event
from infra.items import OutboxEvent, TableItem, read_partition
from infra.points.program_store import ProgramStore
from infra.progress.listener import LISTENER
from tests.api.test_storefront import Shop, own_tenant

BADGE_SAVE = """mutation B($input: BadgeInput!) { badgeSave(input: $input) {
  badge { id badgeId name secret bonusPoints criterion { kind count amount currency action rank } }
  userErrors { field code message } } }"""
CHALLENGE_SAVE = """mutation C($input: ChallengeInput!) { challengeSave(input: $input) {
  challenge { id challengeId name optIn rewardPoints rewardBadge { badgeId } criterion { kind count action } }
  userErrors { field code message } } }"""
JOIN = """mutation J($id: ID!) { challengeJoin(challengeId: $id) {
  progress { joined joinedAt progress { current target } challenge { challengeId } }
  userErrors { field code message } } }"""
MY_BADGES = """{ me { badges(first: 20) { edges { node { badge { badgeId name } earnedAt progress { current target } } } } } }"""
PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def save_badge(shop: Shop, **input) -> dict:
    out = shop.admin.ok(BADGE_SAVE, {"input": input})["badgeSave"]
    assert out["userErrors"] == [], out
    return out["badge"]


def program(shop: Shop, **input) -> None:
    out = shop.admin.ok("mutation($i: ProgramInput!) { programUpdate(input: $i) { userErrors { field code } } }",
                        {"i": input})
    assert out["programUpdate"]["userErrors"] == []


def member_id(client) -> str:
    return client.ok("{ me { memberId } }")["me"]["memberId"]


def deliver_events(shop: Shop, member: str) -> None:
    """The member's outbox events, handed to the progress listener as the stream processor does."""
    env = Env(now=shop.now, programs=lambda t: ProgramStore(t, shop.api.services.programs))
    for item in read_partition(keys.member_pk(shop.tenant, member), TableItem.SK.startswith(keys.OUTBOX_PREFIX)):
        if isinstance(item, OutboxEvent) and item.event_type in LISTENER.event_types:
            LISTENER.handle(Event(shop.tenant, member, item.SK[len(keys.OUTBOX_PREFIX):], item.event_type,
                                  datetime.fromisoformat(item.occurred_at),
                                  item.detail), env)


def review(shop: Shop, member: str, ref: str) -> None:
    out = shop.service.ok('mutation { activityRecord(memberId: "%s", action: "review_written", reference: "%s") '
                          '{ userErrors { code } } }' % (member, ref))
    assert out["activityRecord"]["userErrors"] == []


def test_a_member_sees_badges_in_progress_then_earned_with_the_bonus_and_the_catalog_shows_my_progress(shop):
    program(shop, actions=[{"action": "review_written", "points": 5}])
    save_badge(shop, id="reviewer", name="Reviewer", bonusPoints=40,
               criterion={"kind": "CUSTOM_ACTIVITY", "action": "review_written", "count": 2})
    aiko = shop.member()
    me = member_id(aiko)
    review(shop, me, "r1")
    deliver_events(shop, me)
    [row] = [e["node"] for e in aiko.ok(MY_BADGES)["me"]["badges"]["edges"]]
    assert row == {"badge": {"badgeId": "reviewer", "name": "Reviewer"}, "earnedAt": None,
                   "progress": {"current": "1", "target": "2"}}
    review(shop, me, "r2")
    deliver_events(shop, me)
    [row] = [e["node"] for e in aiko.ok(MY_BADGES)["me"]["badges"]["edges"]]
    assert row["earnedAt"] is not None and row["progress"] == {"current": "2", "target": "2"}
    assert aiko.ok("{ me { points { available } } }")["me"]["points"]["available"] == 5 + 5 + 40
    catalog = aiko.ok("{ badges { edges { node { badgeId myEarnedAt myProgress { current target } } } } }")
    [node] = [e["node"] for e in catalog["badges"]["edges"]]
    assert node["myEarnedAt"] == row["earnedAt"] and node["myProgress"] == {"current": "2", "target": "2"}


def test_a_secret_badge_reveals_nothing_until_earned_in_every_field_and_connection(shop):
    badge = save_badge(shop, id="night-owl", name="Night owl", secret=True, criterion={"kind": "FIRST_PURCHASE"})
    save_badge(shop, id="open", name="Open", criterion={"kind": "FIRST_PURCHASE"})
    member = shop.member()
    program(shop, public=True)
    for client in (member, shop.anonymous):
        text = str(client.ok("{ badges { edges { node { id badgeId name description imageUrl } } } }"))
        assert "night-owl" not in text and "Night owl" not in text and badge["id"] not in text
        assert client.ok("query($id: ID!) { node(id: $id) { id } }", {"id": badge["id"]})["node"] is None
    assert "Night owl" not in str(member.ok(MY_BADGES))
    assert shop.admin.ok("query($id: ID!) { node(id: $id) { ... on Badge { name } } }",
                         {"id": badge["id"]})["node"] == {"name": "Night owl"}
    # Earned (an order: the first purchase), the holder sees it everywhere; others still do not.
    out = shop.service.ok("""mutation($i: OrderInput!) { orderRecord(input: $i) { userErrors { code } } }""", {"i": {
        "orderId": "o-1", "memberId": member_id(member), "currency": "JPY", "orderedAt": shop.now.isoformat(),
        "lines": [{"id": "1", "quantity": 1, "price": "3000", "sku": "A", "category": "home"}],
        "subtotal": "3000", "total": "3000"}})
    assert out["orderRecord"]["userErrors"] == []
    deliver_events(shop, member_id(member))
    mine = {e["node"]["badge"]["badgeId"]: e["node"] for e in member.ok(MY_BADGES)["me"]["badges"]["edges"]}
    assert mine["night-owl"]["earnedAt"] and mine["night-owl"]["badge"]["name"] == "Night owl"
    assert member.ok("query($id: ID!) { node(id: $id) { ... on Badge { name } } }",
                     {"id": badge["id"]})["node"] == {"name": "Night owl"}
    assert "night-owl" not in str(shop.member().ok("{ badges { edges { node { badgeId } } } }"))


def test_the_catalogs_need_a_token_unless_the_program_is_public(shop):
    save_badge(shop, id="first", name="First", criterion={"kind": "FIRST_PURCHASE"})
    r = shop.anonymous("{ badges { edges { node { badgeId } } } challenges { edges { node { challengeId } } } }")
    assert r.error_codes() == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
    program(shop, public=True)
    assert shop.anonymous.ok("{ badges { edges { node { badgeId myProgress { current } } } } }")["badges"][
        "edges"] == [{"node": {"badgeId": "first", "myProgress": None}}]


def test_bad_badge_input_is_every_problem_at_once_as_typed_user_errors(shop):
    bounded = shop.admin.ok(BADGE_SAVE, {"input": {"id": "bad", "name": "x", "imageUrl": "http://example.com/x.png",
                                                   "criterion": {"kind": "PURCHASES", "currency": "yen!"}}})["badgeSave"]
    assert {(e["field"], e["code"]) for e in bounded["userErrors"]} == {  # bounds first, before any read
        ("imageUrl", "INVALID"), ("criterion.currency", "TOO_LONG")}
    out = shop.admin.ok(BADGE_SAVE, {"input": {
        "id": "bad", "bonusPoints": -1, "criterion": {"kind": "SPEND_TOTAL", "count": 3, "amount": "-5"},
        "availableFrom": "2027-01-01T00:00:00Z", "availableUntil": "2026-01-01T00:00:00Z"}})["badgeSave"]
    assert out["badge"] is None
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {
        ("name", "REQUIRED"), ("bonusPoints", "OUT_OF_RANGE"), ("criterion.count", "INVALID"),
        ("criterion.amount", "OUT_OF_RANGE"), ("criterion.currency", "REQUIRED"), ("availableUntil", "INVALID")}
    assert shop.admin.ok("{ badges { edges { node { badgeId } } } }")["badges"]["edges"] == []


def test_a_badge_update_keeps_what_is_left_out_and_is_audited(shop):
    save_badge(shop, id="b1", name="One", bonusPoints=10, criterion={"kind": "PURCHASES", "count": 3})
    changed = save_badge(shop, id="b1", bonusPoints=20)
    assert (changed["name"], changed["bonusPoints"], changed["criterion"]["count"]) == ("One", 20, 3)
    trail = [e["node"] for e in shop.admin.ok("{ auditTrail(first: 5) { edges { node { action detail } } } }")[
        "auditTrail"]["edges"]]
    assert [t["action"] for t in trail] == ["badge.save", "badge.save"]
    assert {"badgeId": "b1", "before": {"bonusPoints": 10}, "after": {"bonusPoints": 20}} in [t["detail"] for t in trail]
    assert shop.member()(BADGE_SAVE, {"input": {"id": "b1", "name": "x"}}).error_codes() == ["FORBIDDEN"]


def test_challenges_save_join_and_refuse_bad_input_with_typed_user_errors(shop):
    out = shop.admin.ok(CHALLENGE_SAVE, {"input": {"id": "c-bad", "startsAt": "2027-01-01T00:00:00Z",
                                                   "endsAt": "2026-01-01T00:00:00Z", "rewardBadge": "no-such",
                                                   "criterion": {"kind": "CUSTOM_ACTIVITY", "count": 0}}})
    assert {(e["field"], e["code"]) for e in out["challengeSave"]["userErrors"]} == {
        ("name", "REQUIRED"), ("endsAt", "INVALID"), ("rewardBadge", "NOT_FOUND"), ("criterion.action", "REQUIRED"),
        ("criterion.count", "OUT_OF_RANGE")}
    save_badge(shop, id="star", name="Star")
    window = {"startsAt": (shop.now - timedelta(days=1)).isoformat(), "endsAt": (shop.now + timedelta(days=9)).isoformat()}
    for cid, opt_in in (("posts", True), ("auto", False)):
        out = shop.admin.ok(CHALLENGE_SAVE, {"input": {"id": cid, "name": cid.title(), "optIn": opt_in, "rewardPoints": 10,
                                                       "rewardBadge": "star", **window,
                                                       "criterion": {"kind": "APPROVED_POSTS", "count": 2}}})
        assert out["challengeSave"]["userErrors"] == [], out
    member = shop.member()
    joined = member.ok(JOIN, {"id": "posts"})["challengeJoin"]
    assert joined["userErrors"] == [] and joined["progress"]["joined"] is True
    assert joined["progress"]["progress"] == {"current": "0", "target": "2"}
    assert member.ok(JOIN, {"id": "posts"})["challengeJoin"]["progress"]["joinedAt"] == joined["progress"]["joinedAt"]
    assert member.ok(JOIN, {"id": "auto"})["challengeJoin"]["userErrors"][0]["code"] == "INVALID"
    assert member.ok(JOIN, {"id": "nope"})["challengeJoin"]["userErrors"] == [
        {"field": "challengeId", "code": "NOT_FOUND", "message": "No such challenge."}]
    mine = member.ok("{ me { challenges { edges { node { joined challenge { challengeId rewardBadge { badgeId } } } } } } }")
    assert {e["node"]["challenge"]["challengeId"]: e["node"]["joined"] for e in mine["me"]["challenges"]["edges"]} == {
        "posts": True, "auto": True}


def test_me_streaks_reads_current_and_best_in_the_program_time_zone(shop):
    member = shop.member()
    out = shop.service.ok("""mutation($i: OrderInput!) { orderRecord(input: $i) { userErrors { code } } }""", {"i": {
        "orderId": "s-1", "memberId": member_id(member), "currency": "JPY", "orderedAt": shop.now.isoformat(),
        "lines": [{"id": "1", "quantity": 1, "price": "3000", "sku": "A", "category": "home"}],
        "subtotal": "3000", "total": "3000"}})
    assert out["orderRecord"]["userErrors"] == []
    deliver_events(shop, member_id(member))
    streaks = member.ok("{ me { streaks { purchaseMonths { current best lastPeriod } activityWeeks { current best } } } }")
    assert streaks["me"]["streaks"]["purchaseMonths"]["current"] == 1
    assert streaks["me"]["streaks"]["activityWeeks"] == {"current": 0, "best": 0}
    shop.now = shop.now + timedelta(days=70)
    assert member.ok("{ me { streaks { purchaseMonths { current best } } } }")["me"]["streaks"]["purchaseMonths"] == {
        "current": 0, "best": 1}


# -- pageInfo at the edges: exactly 3 items on each connection --------------------------------------------

def _three_badges(shop):
    for i in range(3):
        save_badge(shop, id=f"b{i}", name=f"Badge {i}", criterion={"kind": "PURCHASES", "count": i + 1})


def _fill_badges(shop):
    _three_badges(shop)
    return shop.member(), "query($f: Int, $a: String) { badges(first: $f, after: $a) { %s } }" % PAGE, ("badges",)


def _fill_my_badges(shop):
    _three_badges(shop)
    return shop.member(), "query($f: Int, $a: String) { me { badges(first: $f, after: $a) { %s } } }" % PAGE, (
        "me", "badges")


def _three_challenges(shop):
    for i in range(3):
        out = shop.admin.ok(CHALLENGE_SAVE, {"input": {
            "id": f"c{i}", "name": f"C {i}", "rewardPoints": 5, "criterion": {"kind": "PURCHASES", "count": 1},
            "startsAt": (shop.now - timedelta(days=1)).isoformat(), "endsAt": (shop.now + timedelta(days=i + 1)).isoformat()}})
        assert out["challengeSave"]["userErrors"] == []


def _fill_challenges(shop):
    _three_challenges(shop)
    return shop.member(), "query($f: Int, $a: String) { challenges(first: $f, after: $a) { %s } }" % PAGE, (
        "challenges",)


def _fill_my_challenges(shop):
    _three_challenges(shop)
    return shop.member(), "query($f: Int, $a: String) { me { challenges(first: $f, after: $a) { %s } } }" % PAGE, (
        "me", "challenges")


FILLS = [_fill_badges, _fill_my_badges, _fill_challenges, _fill_my_challenges]


def _first(client, query, path, **variables):
    data = client.ok(query, variables)
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("fill", FILLS, ids=[f.__name__.removeprefix("_fill_") for f in FILLS])
def test_a_page_that_ends_exactly_at_the_end_of_the_list_says_there_is_no_next_page(shop, fill):
    client, query, path = fill(shop)
    whole = _first(client, query, path, f=3)
    assert len(whole["edges"]) == 3 and whole["pageInfo"]["hasNextPage"] is False
    part = _first(client, query, path, f=2)
    assert len(part["edges"]) == 2 and part["pageInfo"]["hasNextPage"] is True
    rest = _first(client, query, path, f=2, a=part["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    assert {e["cursor"] for e in rest["edges"]}.isdisjoint(e["cursor"] for e in part["edges"])
    empty = _first(client, query, path, f=5, a=rest["pageInfo"]["endCursor"])
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is False
