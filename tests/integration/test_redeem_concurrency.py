"""Concurrent redemptions never spend the same points twice, nor more stock or more per-member uses than allowed.

Real HTTP requests from real threads, released together by a barrier, against the ASGI app under uvicorn
(each request runs on the server's thread pool) and DynamoDB Local. Nothing is mocked.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import httpx
import pytest

from api.http import Api
from infra import keys
from infra.points.items import Coupon, RewardItem, RewardLimit
from infra.points.program_store import REWARD_PREFIX
from tests.api.points_support import assert_books_balance
from tests.conftest import enroll
from tests.support import live_server as serve

REDEEM = """mutation D($rewardId: ID!) {
  rewardRedeem(rewardId: $rewardId) {
    redemption { code points status reward { id } } userErrors { field code message } } }"""
REWARD = """mutation S($input: RewardInput!) {
  rewardSave(input: $input) { reward { id pointsCost } userErrors { field code message } } }"""
ADJUST = """mutation A($memberId: ID!, $points: Int!, $reason: String!) {
  pointsAdjust(memberId: $memberId, points: $points, reason: $reason) {
    member { points { available } } userErrors { field code message } } }"""


# -- the server -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base_url(services) -> Iterator[str]:
    with serve(Api(services)) as url:
        yield url


def post_graphql(base_url: str, token: str, query: str, variables: dict[str, Any],
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    resp = httpx.post(f"{base_url}/graphql", json={"query": query, "variables": variables},
                      headers={"authorization": f"Bearer {token}", **(headers or {})}, timeout=120)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert not body.get("errors"), body
    return body["data"]


def all_at_once(calls: list[Any]) -> list[Any]:
    """Run each call on its own thread; a barrier releases them together. Results in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


# -- setup through the in-process API, same services and table -------------------------------------------

def new_member(client, idp, admin, points: int) -> tuple[str, str]:
    """Enroll a fresh member and give them `points` available points; returns (member id, token)."""
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    token = idp.member_token(member_id)
    enroll(client.as_(token))
    if points:
        out = admin.ok(ADJUST, {"memberId": member_id, "points": points, "reason": "concurrency test"})
        assert out["pointsAdjust"]["userErrors"] == [], out
        assert out["pointsAdjust"]["member"]["points"]["available"] == points
    return member_id, token


def new_reward(admin, cost: int, **extra: Any) -> str:
    reward_id = f"r-{uuid.uuid4().hex[:10]}"
    out = admin.ok(REWARD, {"input": {"id": reward_id, "name": "Free shipping", "kind": "FREE_SHIPPING",
                                      "pointsCost": cost, **extra}})["rewardSave"]
    assert out["userErrors"] == [], out
    return reward_id


# -- reading the stored books ------------------------------------------------------------------------------

def reward_item(tenant: str, reward_id: str) -> RewardItem:
    return RewardItem.get(keys.program_pk(tenant), f"{REWARD_PREFIX}{reward_id}", consistent_read=True)


def outcomes(results: list[dict[str, Any]]) -> tuple[list[str], Counter]:
    codes, errors = [], Counter()
    for r in results:
        payload = r["rewardRedeem"]
        if payload["redemption"]:
            assert payload["userErrors"] == [], payload
            codes.append(payload["redemption"]["code"])
        else:
            assert len(payload["userErrors"]) == 1, payload
            errors[payload["userErrors"][0]["code"]] += 1
    return codes, errors


# -- the guarantees ---------------------------------------------------------------------------------------

def test_fifty_concurrent_redemptions_of_ten_points_on_a_balance_of_100_spend_it_exactly_once(
        base_url, client, idp, admin, tenant):
    member_id, token = new_member(client, idp, admin, 100)
    reward_id = new_reward(admin, 10)

    results = all_at_once([lambda: post_graphql(base_url, token, REDEEM, {"rewardId": reward_id})] * 50)

    codes, errors = outcomes(results)
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    assert errors == Counter({"INSUFFICIENT_POINTS": 40}), errors
    b = assert_books_balance(tenant, member_id)
    assert (b["available"], b["pending"], b["debt"]) == (0, 0, 0)
    redeemed = [e for e in b["entries"] if e.entry_type == "REDEEM"]
    assert sorted(e.coupon_code for e in redeemed) == sorted(codes)
    assert all(int(e.points) == -10 for e in redeemed)
    for code in codes:
        coupon = Coupon.get(keys.coupon_pk(tenant, code), "COUPON", consistent_read=True)
        assert (coupon.member_id, coupon.reward_id, coupon.status) == (member_id, reward_id, "ISSUED")
    assert int(reward_item(tenant, reward_id).redeemed) == 10


def test_thirty_members_racing_for_a_reward_with_stock_five_get_exactly_five(base_url, client, idp, admin, tenant):
    members = [new_member(client, idp, admin, 25) for _ in range(30)]
    reward_id = new_reward(admin, 10, stockTotal=5)

    results = all_at_once([lambda t=token: post_graphql(base_url, t, REDEEM, {"rewardId": reward_id})
                           for _, token in members])

    codes, errors = outcomes(results)
    assert len(set(codes)) == len(codes) == 5, codes
    assert errors == Counter({"OUT_OF_STOCK": 25}), errors
    item = reward_item(tenant, reward_id)
    assert (int(item.stock_left), int(item.redeemed)) == (0, 5)
    winners = {m for (m, _), r in zip(members, results) if r["rewardRedeem"]["redemption"]}
    for member_id, _ in members:
        b = assert_books_balance(tenant, member_id)
        assert b["available"] == (15 if member_id in winners else 25), (member_id, b)


def test_ten_concurrent_redemptions_by_one_member_stop_at_the_per_member_limit_of_two(
        base_url, client, idp, admin, tenant):
    member_id, token = new_member(client, idp, admin, 100)
    reward_id = new_reward(admin, 10, perMemberLimit=2)

    results = all_at_once([lambda: post_graphql(base_url, token, REDEEM, {"rewardId": reward_id})] * 10)

    codes, errors = outcomes(results)
    assert len(set(codes)) == len(codes) == 2, codes
    assert errors == Counter({"LIMIT_REACHED": 8}), errors
    assert assert_books_balance(tenant, member_id)["available"] == 80
    limit = RewardLimit.get(keys.member_pk(tenant, member_id), f"RLIM#{reward_id}", consistent_read=True)
    assert int(limit.count) == 2
    assert int(reward_item(tenant, reward_id).redeemed) == 2


def test_ten_concurrent_retries_with_one_idempotency_key_redeem_once_and_all_see_the_same_coupon(
        base_url, client, idp, admin, tenant):
    member_id, token = new_member(client, idp, admin, 100)
    reward_id = new_reward(admin, 10)
    key = {"Idempotency-Key": f"checkout-{uuid.uuid4().hex}"}

    results = all_at_once([lambda: post_graphql(base_url, token, REDEEM, {"rewardId": reward_id}, key)] * 10)

    codes, errors = outcomes(results)
    assert errors == Counter(), errors
    assert len(codes) == 10 and len(set(codes)) == 1, codes
    b = assert_books_balance(tenant, member_id)
    assert b["available"] == 90
    assert [e.coupon_code for e in b["entries"] if e.entry_type == "REDEEM"] == codes[:1]
    assert int(reward_item(tenant, reward_id).redeemed) == 1
