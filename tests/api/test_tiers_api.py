"""Tiers through GraphQL: the ladder, `me.tier`, staff settings and the preview, typed errors all at once."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from tests.api.test_storefront import Shop, own_tenant

LADDER = """mutation L($input: TierLadderInput!, $apply: TierLadderApply) {
  tierLadderSet(input: $input, applyFrom: $apply) {
    ladder { tiers { tierId name rank threshold benefits { type multiplier } } period policy }
    pending { tiers { tierId threshold } } userErrors { field code message } } }"""
THREE = {"tiers": [{"id": "bronze", "name": "Bronze", "rank": 1, "threshold": "0"},
                   {"id": "silver", "name": "Silver", "rank": 2, "threshold": "500", "entryPoints": 20,
                    "benefits": [{"type": "FREE_SHIPPING"}]},
                   {"id": "gold", "name": "Gold", "rank": 3, "threshold": "2000",
                    "benefits": [{"type": "POINTS_MULTIPLIER", "multiplier": "1.5"}]}],
         "period": "CALENDAR_YEAR", "policy": "GRACE", "graceDays": 30}
MY_TIER = """{ me { memberId tier { current { tierId name } source next { name threshold }
  progress { qualifying needed percent periodEndsAt } retainedUntil
  history(first: 10) { edges { node { fromTier toTier cause reason } } } } } }"""
SET = """mutation S($m: ID!, $t: ID!, $mode: ManualTierMode!, $until: DateTime, $reason: String!) {
  memberTierSet(memberId: $m, tierId: $t, mode: $mode, until: $until, reason: $reason) {
    member { tier { current { tierId } source } } userErrors { field code } } }"""
ADJUST = """mutation A($m: ID!, $p: Int!) { pointsAdjust(memberId: $m, points: $p, reason: "bonus", qualifying: true) {
  userErrors { code } } }"""


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def test_a_ladder_with_every_mistake_is_refused_with_every_problem_at_once_and_saves_nothing(shop):
    bad = {"tiers": [{"id": "a", "name": "A", "rank": 1, "threshold": "100"},
                     {"id": "a", "name": "B", "rank": 1, "threshold": "50",
                      "benefits": [{"type": "POINTS_MULTIPLIER", "multiplier": "50"}]}],
           "basis": "SPEND", "graceDays": 999}
    out = shop.admin.ok(LADDER, {"input": bad})["tierLadderSet"]
    fields = {e["field"] for e in out["userErrors"]}
    assert {"ladder.tiers", "ladder.tiers.1.benefits.0.multiplier", "ladder.currency", "ladder.graceDays"} <= fields
    assert out["ladder"] is None
    assert shop.member().ok("{ tierLadder { basis } }")["tierLadder"] is None


def test_a_member_sees_their_tier_its_benefits_and_how_far_to_the_next(shop):
    assert shop.admin.ok(LADDER, {"input": THREE})["tierLadderSet"]["userErrors"] == []
    member = shop.member()
    member_id = member.ok("{ me { memberId } }")["me"]["memberId"]
    assert shop.admin.ok(ADJUST, {"m": member_id, "p": 600})["pointsAdjust"]["userErrors"] == []
    tier = member.ok(MY_TIER)["me"]["tier"]
    assert tier["current"] == {"tierId": "silver", "name": "Silver"} and tier["source"] == "QUALIFIED"
    assert tier["next"] == {"name": "Gold", "threshold": "2000"}
    assert tier["progress"]["qualifying"] == "600" and tier["progress"]["needed"] == "1400"
    # The shop's clock is in May 2027: the year ends 2028-01-01, and a tier reached now is kept through 2028.
    assert tier["progress"]["percent"] == "30.0" and tier["progress"]["periodEndsAt"].startswith("2028-01-01")
    assert tier["retainedUntil"].startswith("2029-01-01")


def test_staff_set_a_tier_with_a_reason_see_it_in_the_history_and_preview_the_period_end(shop):
    assert shop.admin.ok(LADDER, {"input": THREE})["tierLadderSet"]["userErrors"] == []
    member = shop.member()
    member_id = member.ok("{ me { memberId } }")["me"]["memberId"]
    out = shop.admin.ok(SET, {"m": member_id, "t": "gold", "mode": "OVERRIDE", "until": "2027-12-24T00:00:00Z",
                              "reason": "Flagship opening guest"})["memberTierSet"]
    assert out["userErrors"] == [] and out["member"]["tier"] == {"current": {"tierId": "gold"}, "source": "OVERRIDE"}
    history = member.ok(MY_TIER)["me"]["tier"]["history"]["edges"]
    assert [e["node"] for e in history] == [{"fromTier": "Bronze", "toTier": "Gold", "cause": "STAFF",
                                             "reason": "Flagship opening guest"}]
    preview = shop.admin.ok("""query P($m: ID!) { memberTierPreview(memberId: $m) { periodEndsAt qualifying
        tierNow { tierId } tierAfter { tierId } policy explanation } }""", {"m": member_id})["memberTierPreview"]
    assert preview["tierNow"] == {"tierId": "bronze"}  # the override ends before the period does
    assert preview["policy"] == "GRACE" and preview["explanation"]


def test_setting_an_unknown_tier_or_a_past_date_is_refused_with_both_problems(shop):
    assert shop.admin.ok(LADDER, {"input": THREE})["tierLadderSet"]["userErrors"] == []
    member_id = shop.member().ok("{ me { memberId } }")["me"]["memberId"]
    out = shop.admin.ok(SET, {"m": member_id, "t": "platinum", "mode": "FLOOR", "until": "2020-01-01T00:00:00Z",
                              "reason": "x"})["memberTierSet"]
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {("tierId", "NOT_FOUND"), ("until", "OUT_OF_RANGE")}


def test_a_ladder_edit_waits_for_the_next_period_unless_staff_apply_it_now(shop):
    assert shop.admin.ok(LADDER, {"input": THREE})["tierLadderSet"]["userErrors"] == []
    harder = {**THREE, "tiers": [{**t, "threshold": str(int(t["threshold"]) * 2)} for t in THREE["tiers"]]}
    out = shop.admin.ok(LADDER, {"input": harder})["tierLadderSet"]
    assert out["ladder"]["tiers"][1]["threshold"] == "500" and out["pending"]["tiers"][1]["threshold"] == "1000"
    now = shop.admin.ok(LADDER, {"input": harder, "apply": "NOW"})["tierLadderSet"]
    assert now["ladder"]["tiers"][1]["threshold"] == "1000" and now["pending"] is None


def test_a_member_of_a_higher_rank_may_redeem_a_reward_for_a_lower_one(shop):
    assert shop.admin.ok(LADDER, {"input": THREE})["tierLadderSet"]["userErrors"] == []
    shop.reward("lounge", 10, requiresTier="silver")
    member = shop.member(points=50)
    redeem = 'mutation { rewardRedeem(rewardId: "lounge") { redemption { code } userErrors { code } } }'
    assert member.ok(redeem)["rewardRedeem"]["userErrors"] == [{"code": "TIER_REQUIRED"}]
    member_id = member.ok("{ me { memberId } }")["me"]["memberId"]
    assert shop.admin.ok(ADJUST, {"m": member_id, "p": 2500})["pointsAdjust"]["userErrors"] == []
    assert member.ok(redeem)["rewardRedeem"]["userErrors"] == []  # Gold: rank 3 >= Silver's 2


def test_early_access_lets_a_tiers_members_redeem_before_a_reward_opens_to_everyone(shop):
    early = {**THREE, "tiers": [*THREE["tiers"][:2], {**THREE["tiers"][2], "benefits": [
        {"type": "EARLY_ACCESS", "hours": 48}]}]}
    assert shop.admin.ok(LADDER, {"input": early})["tierLadderSet"]["userErrors"] == []
    opens = (shop.now + timedelta(hours=24)).isoformat()
    shop.reward("preview-kit", 10, startsAt=opens)
    redeem = 'mutation { rewardRedeem(rewardId: "preview-kit") { userErrors { code } } }'
    everyone = shop.member(points=50)
    assert everyone.ok(redeem)["rewardRedeem"]["userErrors"] == [{"code": "NOT_AVAILABLE"}]
    gold = shop.member()
    gold_id = gold.ok("{ me { memberId } }")["me"]["memberId"]
    assert shop.admin.ok(ADJUST, {"m": gold_id, "p": 2100})["pointsAdjust"]["userErrors"] == []
    assert gold.ok(redeem)["rewardRedeem"]["userErrors"] == []
