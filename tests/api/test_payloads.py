"""Mutation payloads return the objects they changed, read after the change and only when selected, under
the same read rules as their own query fields; the write itself stays one call."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import pytest

from infra import keys
from infra.items import TableItem
from infra.points.items import RewardItem
from domain.points.program import DEFAULT_PROGRAM
from infra.points.program_store import REWARD_PREFIX, ProgramStore
from tests.api.points_support import order_input

CACHEABLE = "id points { id available pending lifetime debt }"
REDEEM = """mutation R($r: ID!, $k: String) { rewardRedeem(rewardId: $r, idempotencyKey: $k) {
  redemption { id code points reward { id rewardId name } } %s userErrors { field code } } }"""
REDEEM_ALL = REDEEM % f"member {{ {CACHEABLE} }} reward {{ id rewardId stockLeft stockTotal }}"
REWARD = """mutation S($input: RewardInput!) { rewardSave(input: $input) {
  reward { id rewardId pointsCost stockTotal stockLeft imageUrl } userErrors { field code } } }"""
ADJUST = """mutation A($m: ID!, $p: Int!) { pointsAdjust(memberId: $m, points: $p, reason: "test") {
  member { %s } userErrors { field code } } }""" % CACHEABLE
ME = "{ me { %s } }" % CACHEABLE


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The DynamoDB operations sent while the block runs, on the client the models use now."""
    calls: list[str] = []
    events = TableItem._get_connection().connection.client.meta.events

    def record(model=None, **_: object) -> None:
        calls.append(model.name)

    uid = f"payload-calls-{uuid.uuid4().hex}"
    events.register("before-call.dynamodb.*", record, unique_id=uid)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb.*", unique_id=uid)


def new_reward(admin, cost: int = 10, **extra) -> str:
    reward_id = f"r-{uuid.uuid4().hex[:10]}"
    out = admin.ok(REWARD, {"input": {"id": reward_id, "name": "Tote", "kind": "CUSTOM", "pointsCost": cost,
                                      **extra}})["rewardSave"]
    assert out["userErrors"] == [], out
    return reward_id


def give(admin, member_id: str, points: int) -> None:
    assert admin.ok(ADJUST, {"m": member_id, "p": points})["pointsAdjust"]["userErrors"] == []


def test_reward_redeem_returns_the_member_with_new_points_and_the_reward_with_stock_left(admin, enrolled, member_id):
    reward_id = new_reward(admin, 30, stockTotal=5)
    give(admin, member_id, 100)
    before = enrolled.ok(ME)["me"]
    out = enrolled.ok(REDEEM_ALL, {"r": reward_id})["rewardRedeem"]
    assert out["userErrors"] == []
    # The same objects as the dashboard's (same ids), with what the redemption changed.
    assert out["member"]["id"] == before["id"] and out["member"]["points"]["id"] == before["points"]["id"]
    assert out["member"]["points"]["available"] == before["points"]["available"] - 30 == 70
    assert out["reward"]["rewardId"] == reward_id and (out["reward"]["stockTotal"], out["reward"]["stockLeft"]) == (5, 4)
    again = enrolled.ok(REDEEM_ALL, {"r": reward_id})["rewardRedeem"]
    assert again["member"]["points"]["available"] == 40 and again["reward"]["stockLeft"] == 3
    assert enrolled.ok(ME)["me"] == again["member"]


def test_stock_left_in_a_payload_is_the_reward_items_own_count(admin, enrolled, member_id, tenant):
    reward_id = new_reward(admin, 1, stockTotal=50)
    give(admin, member_id, 10)
    # Other containers redeemed meanwhile: only the item knows.
    RewardItem(keys.program_pk(tenant), f"{REWARD_PREFIX}{reward_id}").update(actions=[RewardItem.stock_left.set(7)])
    out = enrolled.ok(REDEEM_ALL, {"r": reward_id})["rewardRedeem"]
    assert out["reward"]["stockLeft"] == 6
    catalog = enrolled.ok("{ rewards(first: 100) { nodes { rewardId stockLeft } } }")["rewards"]["nodes"]
    assert {"rewardId": reward_id, "stockLeft": 6} in catalog  # this container's catalog took the fresh count


def test_the_write_is_one_transaction_and_each_selected_object_costs_one_read(admin, enrolled, member_id):
    reward_id = new_reward(admin, 1, stockTotal=10)
    give(admin, member_id, 10)
    enrolled.ok("{ rewards(first: 1) { edges { cursor } } }")  # the program cache is warm, as in steady state
    with dynamodb_calls() as bare:
        assert enrolled.ok(REDEEM % "", {"r": reward_id})["rewardRedeem"]["userErrors"] == []
    with dynamodb_calls() as with_member:
        enrolled.ok(REDEEM % f"member {{ {CACHEABLE} points {{ expiringSoon {{ points }} }} }}", {"r": reward_id})
    with dynamodb_calls() as with_both:
        enrolled.ok(REDEEM_ALL, {"r": reward_id})
    assert bare == ["TransactWriteItems"]
    assert sorted(with_member) == ["Query", "TransactWriteItems"]  # the dashboard, once, after the write
    assert sorted(with_both) == ["GetItem", "Query", "TransactWriteItems"]


def test_redemption_cancel_returns_the_points_and_the_stock_it_gave_back(admin, enrolled, member_id):
    reward_id = new_reward(admin, 25, stockTotal=2)
    give(admin, member_id, 100)
    code = enrolled.ok(REDEEM_ALL, {"r": reward_id})["rewardRedeem"]["redemption"]["code"]
    cancel = """mutation C($c: String!) { redemptionCancel(code: $c) { redemption { id status }
      member { points { available } } reward { stockLeft } userErrors { code } } }"""
    out = enrolled.ok(cancel, {"c": code})["redemptionCancel"]
    assert out == {"redemption": {"id": out["redemption"]["id"], "status": "CANCELLED"},
                   "member": {"points": {"available": 100}}, "reward": {"stockLeft": 2}, "userErrors": []}


def test_coupon_consume_returns_the_consumed_redemption_and_no_member_to_the_order_system(admin, enrolled, member_id,
                                                                                          client, idp):
    reward_id = new_reward(admin, 5)
    give(admin, member_id, 10)
    redeemed = enrolled.ok(REDEEM_ALL, {"r": reward_id})["rewardRedeem"]["redemption"]
    shop = client.as_(idp.service_token())
    out = shop.ok("""mutation { couponConsume(code: "%s", orderId: "o-1") { redemption { id status orderId }
      member { id } reward { rewardId } userErrors { code } } }""" % redeemed["code"])["couponConsume"]
    assert out == {"redemption": {"id": redeemed["id"], "status": "CONSUMED", "orderId": "o-1"},
                   "member": None, "reward": {"rewardId": reward_id}, "userErrors": []}


def test_points_adjust_returns_the_member_with_the_new_points_to_staff(admin, enrolled, member_id):
    before = enrolled.ok(ME)["me"]
    out = admin.ok(ADJUST, {"m": member_id, "p": 12})["pointsAdjust"]
    assert out["member"]["id"] == before["id"] and out["member"]["points"]["available"] == before["points"]["available"] + 12


def test_activity_record_returns_the_member_to_staff_and_only_points_to_the_order_system(admin, enrolled, member_id,
                                                                                          client, idp):
    rule = "mutation { actionRuleSave(input: {action: \"payload_check\", points: 7}) { userErrors { code } } }"
    assert admin.ok(rule)["actionRuleSave"]["userErrors"] == []
    act = """mutation A($m: ID!, $r: String!) { activityRecord(memberId: $m, action: "payload_check", reference: $r) {
      points member { points { available } } userErrors { code } } }"""
    staff = admin.ok(act, {"m": member_id, "r": "a"})["activityRecord"]
    assert staff == {"points": 7, "member": {"points": {"available": 7}}, "userErrors": []}
    service = client.as_(idp.service_token()).ok(act, {"m": member_id, "r": "b"})["activityRecord"]
    assert service == {"points": 7, "member": None, "userErrors": []}  # the order system may not read members


def test_order_record_names_its_member_and_leaves_the_profile_to_callers_who_may_read_it(enrolled, member_id, client,
                                                                                          idp):
    shop = client.as_(idp.service_token())
    order = """mutation O($input: OrderInput!) { orderRecord(input: $input) {
      outcome memberId points member { id } userErrors { code } } }"""
    out = shop.ok(order, {"input": order_input(member_id)})["orderRecord"]
    assert out == {"outcome": "CREDITED", "memberId": member_id, "points": 100, "member": None, "userErrors": []}


def test_enroll_and_profile_update_return_the_member_as_stored(member):
    joined = member.ok("""mutation { memberEnroll(input: {name: "Aiko", email: "a-%s@example.com"}) {
      member { id name points { id available } } userErrors { code } } }""" % uuid.uuid4().hex[:8])["memberEnroll"]
    assert joined["userErrors"] == [] and joined["member"]["name"] == "Aiko"
    changed = member.ok("""mutation { memberUpdateProfile(input: {name: "Aiko T."}) {
      member { id name } userErrors { code } } }""")["memberUpdateProfile"]
    assert changed == {"member": {"id": joined["member"]["id"], "name": "Aiko T."}, "userErrors": []}
    assert member.ok("{ me { id name } }")["me"] == changed["member"]


def test_program_update_returns_the_program_and_what_a_storefront_now_shows(admin, fresh_program):
    out = admin.ok("""mutation { programUpdate(input: {returnWindowDays: 21, actions: [{action: "review", points: 5}]}) {
      program { id returnWindowDays } programSummary { id returnWindowDays waysToEarn { action points } }
      userErrors { code } } }""")["programUpdate"]
    assert out["userErrors"] == [] and out["program"]["returnWindowDays"] == 21
    assert out["programSummary"]["returnWindowDays"] == 21
    assert out["programSummary"]["waysToEarn"] == [{"action": "review", "points": 5}]
    assert admin.ok("{ programSummary { id } }")["programSummary"]["id"] == out["programSummary"]["id"]


def test_reward_save_returns_the_reward_with_its_stock_left(admin, enrolled, member_id):
    reward_id = new_reward(admin, 10, stockTotal=3)
    give(admin, member_id, 10)
    enrolled.ok(REDEEM_ALL, {"r": reward_id})
    out = admin.ok(REWARD, {"input": {"id": reward_id, "pointsCost": 12}})["rewardSave"]
    assert out["reward"]["pointsCost"] == 12 and (out["reward"]["stockTotal"], out["reward"]["stockLeft"]) == (3, 2)


@pytest.fixture
def fresh_program(services, tenant):
    yield
    ProgramStore(tenant, services.programs).save_program(DEFAULT_PROGRAM, "test", datetime.now(timezone.utc), "reset")
