"""What a storefront shows: the program summary (earn rates, ways to earn, rewards with image, stock, tier and
window), readable by members and, when the program is public, without a token; the catalog paged as every list."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Iterator

import pytest

from api.http import Api
from api.runtime import build_services
from infra.items import TableItem
from resolvers.schema import build_schema
from tests.conftest import enroll, make_settings
from tests.support import GraphQLClient, new_tenant

NOW = datetime(2027, 5, 10, 12, tzinfo=timezone.utc)
SUMMARY = """{ programSummary { id earnRates { currency unitAmount pointsPerUnit } multipliers { factor category }
  campaigns { name factor } waysToEarn { action points capPerPeriod period cooldownSeconds } returnWindowDays
  expiryMode expiryMonths timezone
  rewards(first: 10) { nodes { rewardId name pointsCost imageUrl stockTotal stockLeft requiresTier startsAt endsAt } } } }"""
REWARD = """mutation S($input: RewardInput!) { rewardSave(input: $input) { reward { id rewardId } userErrors { field code } } }"""
PROGRAM = """mutation P($input: ProgramInput!) { programUpdate(input: $input) { userErrors { field code } } }"""
REDEEM = """mutation R($r: ID!) { rewardRedeem(rewardId: $r) { redemption { code } userErrors { field code message } } }"""
REWARDS = """query($first: Int, $after: String) { rewards(first: $first, after: $after) {
  edges { cursor node { rewardId } } pageInfo { hasNextPage endCursor } } }"""


class Shop:
    """A tenant of its own, on the session's table and IdP keys; callers without a token land on it."""

    def __init__(self, endpoint: str, table: str, idp) -> None:
        self.tenant = new_tenant()
        self.now = NOW
        settings = make_settings(endpoint, table, (idp.issuer_settings(self.tenant),), default_tenant=self.tenant)
        self.api = Api(build_services(settings), clock=lambda: self.now)
        self.anonymous = GraphQLClient(self.api)
        self.admin = self.anonymous.as_(idp.staff_token("shop-admin", "kizuna-admins"))
        self.service = self.anonymous.as_(idp.service_token())
        self.partner = self.anonymous.as_(idp.partner_token("acme"))
        self.idp = idp

    def member(self, points: int = 0) -> GraphQLClient:
        member_id = f"m-{uuid.uuid4().hex[:10]}"
        client = self.anonymous.as_(self.idp.member_token(member_id))
        enroll(client)
        if points:
            out = self.admin.ok("""mutation { pointsAdjust(memberId: "%s", points: %d, reason: "shop") {
                userErrors { code } } }""" % (member_id, points))
            assert out["pointsAdjust"]["userErrors"] == []
        return client

    def reward(self, reward_id: str, cost: int, **extra) -> dict:
        out = self.admin.ok(REWARD, {"input": {"id": reward_id, "name": reward_id.title(), "kind": "CUSTOM",
                                               "pointsCost": cost, **extra}})["rewardSave"]
        assert out["userErrors"] == [], out
        return out["reward"]


def own_tenant(endpoint: str, table: str, idp) -> Iterator[Shop]:
    """A Shop for one test. Building its services binds the models to a new client; the session's is
    given back afterwards, so tests that watch `services.dynamodb` still see every call."""
    bound = TableItem._connection
    try:
        yield Shop(endpoint, table, idp)
    finally:
        TableItem._connection = bound


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services  # the table exists
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def test_a_member_sees_how_to_earn_and_what_to_redeem_with_image_stock_tier_and_window(shop):
    assert shop.admin.ok(PROGRAM, {"input": {
        "earnRates": [{"currency": "JPY", "unitAmount": "100"}],
        "multipliers": [{"factor": "2", "category": "skincare"}],
        "campaigns": [{"name": "Past", "factor": "2", "startsAt": "2027-01-01T00:00:00Z", "endsAt": "2027-02-01T00:00:00Z"},
                      {"name": "Golden Week", "factor": "3", "startsAt": "2027-05-01T00:00:00Z",
                       "endsAt": "2027-05-15T00:00:00Z"}],
        "actions": [{"action": "review_written", "points": 50, "capPerPeriod": 5, "period": "MONTH",
                     "cooldownSeconds": 3600, "maxReturnRate": "0.5"},
                    {"action": "birthday", "points": 200, "capPerPeriod": 1, "period": "YEAR"}],
        "returnWindowDays": 14, "expiryMode": "AFTER_EARNING", "expiryMonths": 12, "timezone": "Asia/Tokyo"}}
    )["programUpdate"]["userErrors"] == []
    shop.reward("tote", 1200, kind="FREE_PRODUCT", productSku="TOTE", imageUrl="https://cdn.example.com/tote.png",
                stockTotal=50, requiresTier="gold", startsAt="2027-05-01T00:00:00Z", endsAt="2027-06-01T00:00:00Z")
    shop.reward("free-shipping", 300)
    shop.reward("later", 10, startsAt="2027-06-01T00:00:00Z")
    shop.reward("off", 10, active=False)
    summary = shop.member().ok(SUMMARY)["programSummary"]
    assert summary["earnRates"] == [{"currency": "JPY", "unitAmount": "100", "pointsPerUnit": "1"}]
    assert summary["multipliers"] == [{"factor": "2", "category": "skincare"}]
    assert summary["campaigns"] == [{"name": "Golden Week", "factor": "3"}]  # running or to come, not past
    assert summary["waysToEarn"] == [
        {"action": "review_written", "points": 50, "capPerPeriod": 5, "period": "MONTH", "cooldownSeconds": 3600},
        {"action": "birthday", "points": 200, "capPerPeriod": 1, "period": "YEAR", "cooldownSeconds": 0}]
    assert (summary["returnWindowDays"], summary["expiryMode"], summary["expiryMonths"], summary["timezone"]) == (
        14, "AFTER_EARNING", 12, "Asia/Tokyo")
    assert summary["rewards"]["nodes"] == [  # redeemable now, cheapest first
        {"rewardId": "free-shipping", "name": "Free-Shipping", "pointsCost": 300, "imageUrl": None, "stockTotal": None,
         "stockLeft": None, "requiresTier": None, "startsAt": None, "endsAt": None},
        {"rewardId": "tote", "name": "Tote", "pointsCost": 1200, "imageUrl": "https://cdn.example.com/tote.png",
         "stockTotal": 50, "stockLeft": 50, "requiresTier": "gold", "startsAt": "2027-05-01T00:00:00+00:00",
         "endsAt": "2027-06-01T00:00:00+00:00"}]
    assert "maxReturnRate" not in str(summary)  # the anti-abuse setting stays staff-only


def test_without_a_token_the_summary_and_catalog_are_readable_only_when_the_program_is_public(shop):
    shop.reward("free-shipping", 300)
    for query in (SUMMARY, REWARDS):
        refused = shop.anonymous(query)
        assert refused.status == 200 and refused.error_codes() == ["UNAUTHENTICATED"], refused.body
    assert shop.service.ok(REWARDS)["rewards"]["edges"][0]["node"]["rewardId"] == "free-shipping"
    assert "FORBIDDEN" in shop.partner(REWARDS).error_codes()
    assert shop.admin.ok(PROGRAM, {"input": {"public": True}})["programUpdate"]["userErrors"] == []
    assert shop.anonymous.ok(SUMMARY)["programSummary"]["rewards"]["nodes"][0]["rewardId"] == "free-shipping"
    assert shop.anonymous.ok(REWARDS)["rewards"]["edges"][0]["node"]["rewardId"] == "free-shipping"
    assert "FORBIDDEN" in shop.partner(REWARDS).error_codes()  # public means shoppers, not partners
    assert shop.anonymous("{ me { id } }").error_codes() == ["UNAUTHENTICATED"]  # nothing else opens
    assert shop.admin.ok(PROGRAM, {"input": {"public": False}})["programUpdate"]["userErrors"] == []
    assert shop.anonymous(REWARDS).error_codes() == ["UNAUTHENTICATED"]


def test_redeeming_outside_the_rewards_window_is_not_available_and_it_is_not_listed_then(shop):
    shop.reward("window", 10, startsAt="2027-06-01T00:00:00Z", endsAt="2027-07-01T00:00:00Z")
    member = shop.member(points=100)
    listed = lambda: [e["node"]["rewardId"] for e in member.ok(REWARDS)["rewards"]["edges"]]  # noqa: E731
    early = member.ok(REDEEM, {"r": "window"})["rewardRedeem"]
    assert [(e["field"], e["code"]) for e in early["userErrors"]] == [("rewardId", "NOT_AVAILABLE")]
    assert "2027-06-01" in early["userErrors"][0]["message"] and listed() == []
    shop.now = datetime(2027, 6, 15, tzinfo=timezone.utc)
    assert listed() == ["window"] and member.ok(REDEEM, {"r": "window"})["rewardRedeem"]["userErrors"] == []
    shop.now = datetime(2027, 7, 1, tzinfo=timezone.utc)  # `endsAt` itself is outside
    late = member.ok(REDEEM, {"r": "window"})["rewardRedeem"]
    assert [(e["field"], e["code"]) for e in late["userErrors"]] == [("rewardId", "NOT_AVAILABLE")]
    assert "2027-07-01" in late["userErrors"][0]["message"] and listed() == []
    staff = shop.admin.ok("{ rewards(includeInactive: true) { nodes { rewardId } } }")["rewards"]["nodes"]
    assert staff == [{"rewardId": "window"}]


def test_the_catalog_is_paged_with_cursors_bound_to_their_list(shop):
    for n in range(5):
        shop.reward(f"r{n}", 10 + n)
    member = shop.member()
    seen, after = [], None
    while True:
        page = member.ok(REWARDS, {"first": 2, "after": after})["rewards"]
        seen += [e["node"]["rewardId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["r0", "r1", "r2", "r3", "r4"]
    nested = member.ok("{ programSummary { rewards(first: 2) { pageInfo { endCursor } } } }")
    cursor = nested["programSummary"]["rewards"]["pageInfo"]["endCursor"]
    assert member(REWARDS, {"first": 2, "after": cursor}).error_codes() == ["BAD_USER_INPUT"]  # another list's
    mine = member.ok(REWARDS, {"first": 2})["rewards"]["pageInfo"]["endCursor"]
    other = shop.member()
    assert other(REWARDS, {"first": 2, "after": mine}).error_codes() == ["BAD_USER_INPUT"]  # another caller's
    staff = "query($a: String) { rewards(first: 2, after: $a, includeInactive: true) { edges { cursor } } }"
    own = shop.admin.ok(REWARDS, {"first": 2})["rewards"]["pageInfo"]["endCursor"]
    assert shop.admin(staff, {"a": own}).error_codes() == ["BAD_USER_INPUT"]  # another filter's


@pytest.mark.parametrize("url,code", [
    ("http://cdn.example.com/a.png", "INVALID"), ("javascript:alert(1)", "INVALID"),
    ("https://user:secret@cdn.example.com/a.png", "INVALID"), ("https://cdn.example.com/a b.png", "INVALID"),
    ("https://cdn.example.com/" + "a" * 2100, "TOO_LONG"), ("", "REQUIRED")])
def test_an_image_url_is_https_and_bounded(shop, url, code):
    out = shop.admin.ok(REWARD, {"input": {"id": "img", "name": "Img", "kind": "CUSTOM", "pointsCost": 1,
                                           "imageUrl": url}})["rewardSave"]
    assert out["userErrors"] == [{"field": "imageUrl", "code": code}]


def test_old_names_are_deprecated_aliases_that_still_work(shop):
    rule = """mutation { actionRuleSet(input: {action: "old_name", points: 3}) { program { actions { action } }
              userErrors { code } } }"""
    assert shop.admin.ok(rule)["actionRuleSet"]["program"]["actions"] == [{"action": "old_name"}]
    shop.reward("aliased", 5, requiresTier="gold", startsAt="2027-05-01T00:00:00Z", endsAt="2027-06-01T00:00:00Z")
    old = shop.admin.ok("{ rewards(includeInactive: true) { nodes { tierGate activeFrom activeUntil } } }")
    assert old["rewards"]["nodes"] == [{"tierGate": "gold", "activeFrom": "2027-05-01T00:00:00+00:00",
                                        "activeUntil": "2027-06-01T00:00:00+00:00"}]
    fields = build_schema()._schema.type_map["Reward"].fields
    assert {n: f.deprecation_reason for n, f in fields.items() if f.deprecation_reason} == {
        "tierGate": "Use `requiresTier`.", "activeFrom": "Use `startsAt`.", "activeUntil": "Use `endsAt`."}
    mutations = build_schema()._schema.mutation_type.fields
    assert "actionRuleSave" in mutations["actionRuleSet"].deprecation_reason
    inputs = build_schema()._schema.type_map["RewardInput"].fields
    assert {n for n, f in inputs.items() if f.deprecation_reason} == {"tierGate", "activeFrom", "activeUntil"}


def test_once_a_payload_showed_the_stock_left_the_catalog_never_shows_an_older_count(shop):
    shop.reward("few", 10, stockTotal=2)
    member = shop.member(points=100)
    stock = "{ rewards { nodes { rewardId stockLeft } } }"
    assert member.ok(stock)["rewards"]["nodes"] == [{"rewardId": "few", "stockLeft": 2}]
    out = member.ok("""mutation { rewardRedeem(rewardId: "few") { reward { stockLeft } userErrors { code } } }""")
    assert out["rewardRedeem"] == {"reward": {"stockLeft": 1}, "userErrors": []}
    assert member.ok(stock)["rewards"]["nodes"] == [{"rewardId": "few", "stockLeft": 1}]


def test_a_storefront_page_for_a_visitor_without_a_token_still_gets_its_other_fields(shop):
    page = shop.anonymous("{ me { id } programSummary { id } rewards { nodes { id } } }")
    assert page.status == 200 and page.data == {"me": None, "programSummary": None, "rewards": None}
    assert page.error_codes() == ["UNAUTHENTICATED"] * 3
