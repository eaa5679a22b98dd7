"""A storefront's first hour with the Kizuna API, in Python with gql 4 and its HTTPX transport.

Read it top to bottom: each step is one thing a storefront (or the brand's order system) does, with the
GraphQL it sends. Run it against the local API (`make run` in the project folder prints the tokens):

    KIZUNA_MEMBER_TOKEN=<member token> KIZUNA_SERVICE_TOKEN=<service token> \\
        .venv/bin/python examples/python/storefront.py

Settings, from the environment or the same-named options:
    KIZUNA_URL            --url            the GraphQL endpoint (default http://127.0.0.1:8000/graphql)
    KIZUNA_MEMBER_TOKEN   --member-token   the shopper's sign-in token ("member" in `make run`'s list)
    KIZUNA_SERVICE_TOKEN  --service-token  the storefront's and order system's service token ("service")

The shopper joins the program if they have not yet, reads their points and history, redeems the
cheapest reward they can afford; the storefront validates the coupon and consumes it on an order, and
the order system records that order, delivers it and refunds part of it. It needs `pip install
'gql[httpx]'` (the project's dev dependencies include it) and exits 1 on anything unexpected.
"""
from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import datetime, timezone
from typing import Any

from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

# -- the operations ----------------------------------------------------------------------------------
# One fragment for the balances, so every screen that shows points asks for the same fields.
POINTS = """
fragment Points on PointsSummary { id available pending lifetime debt expiringSoon { points at } }
"""

ME = gql("query Me { me { id memberId name } }")

ENROLL = gql("""
mutation Enroll($input: MemberEnrollInput!) {
  memberEnroll(input: $input) {
    member { id memberId name referralCode points { ...Points } }
    userErrors { field code message }
  }
}""" + POINTS)

DASHBOARD = gql("""
query Dashboard {
  me { id memberId name referralCode points { ...Points } }
  programSummary { id waysToEarn { action points capPerPeriod period } }
  rewards(first: 20) { edges { node { id rewardId name kind pointsCost stockLeft imageUrl } } }
}""" + POINTS)

HISTORY = gql("""
query History($first: Int!, $after: String) {
  me {
    id
    pointsHistory(first: $first, after: $after) {
      edges { cursor node { id type points status reason orderId createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}""")

REDEEM = gql("""
mutation Redeem($rewardId: ID!) {
  rewardRedeem(rewardId: $rewardId) {
    redemption { id code points status reward { id rewardId name } }
    member { id points { ...Points } }
    reward { id stockLeft }
    userErrors { field code message }
  }
}""" + POINTS)

VALIDATE = gql("""
query Validate($code: String!) {
  couponValidate(code: $code) { id code status points memberId reward { id rewardId name kind } }
}""")

CONSUME = gql("""
mutation Consume($code: String!, $orderId: ID!) {
  couponConsume(code: $code, orderId: $orderId) {
    redemption { id code status orderId consumedAt }
    userErrors { field code message }
  }
}""")

RECORD_ORDER = gql("""
mutation RecordOrder($input: OrderInput!) {
  orderRecord(input: $input) { outcome orderId memberId points userErrors { field code message } }
}""")

DELIVER = gql("""
mutation Deliver($orderId: ID!, $deliveredAt: DateTime!) {
  orderDeliver(orderId: $orderId, deliveredAt: $deliveredAt) { outcome orderId points userErrors { field code message } }
}""")

REFUND = gql("""
mutation Refund($input: OrderReturnInput!) {
  orderReturnRecord(input: $input) {
    orderId pointsReversed duplicate
    remaining { lineItemId amountLeft pointsLeft }
    userErrors { field code message }
  }
}""")


# -- a little plumbing --------------------------------------------------------------------------------
class WalkThroughFailed(Exception):
    pass


def say(step: str, text: str) -> None:
    print(f"[{step}] {text}", flush=True)


def connect(url: str, token: str) -> Any:
    """A gql session that signs every request with this caller's token."""
    transport = HTTPXTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(transport=transport).connect_sync()


def run(session: Any, document: GraphQLRequest, headers: dict[str, str] | None = None, **variables: Any) -> dict:
    """Execute one operation. Top-level `errors` (sign in, forbidden, a bad argument) raise
    TransportQueryError; a mutation's own refusals come back as data, in its `userErrors`."""
    request = GraphQLRequest(document, variable_values=variables)
    return session.execute(request, extra_args={"headers": headers} if headers else None)


def ok(payload: dict, what: str) -> dict:
    """A mutation payload with no userErrors, or stop and say which input was refused and why."""
    if payload["userErrors"]:
        problems = "; ".join(f"{e['field']}: {e['code']} ({e['message']})" for e in payload["userErrors"])
        raise WalkThroughFailed(f"{what} refused: {problems}")
    return payload


def balances(points: dict) -> str:
    return f"available={points['available']} pending={points['pending']} lifetime={points['lifetime']}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("KIZUNA_URL", "http://127.0.0.1:8000/graphql"))
    parser.add_argument("--member-token", default=os.environ.get("KIZUNA_MEMBER_TOKEN"))
    parser.add_argument("--service-token", default=os.environ.get("KIZUNA_SERVICE_TOKEN"))
    args = parser.parse_args()
    if not args.member_token or not args.service_token:
        parser.error("set KIZUNA_MEMBER_TOKEN and KIZUNA_SERVICE_TOKEN (or --member-token, --service-token): "
                     "`make run` prints both")
    return args


# -- the walk-through ---------------------------------------------------------------------------------
def walk_through(url: str, member_token: str, service_token: str) -> None:
    member = connect(url, member_token)  # the shopper, signed in on the storefront
    storefront = connect(url, service_token)  # the storefront's checkout and the order system

    # 1. Join the program. `me` is null until the member enrolls; queries never enroll anyone.
    me = run(member, ME)["me"]
    if me is None:
        enrolled = ok(run(member, ENROLL, input={"name": "Kenji Sato", "email": "kenji@example.com",
                                                 "marketingConsent": True})["memberEnroll"], "memberEnroll")
        me = enrolled["member"]
        say("enroll", f"enrolled {me['name']} ({me['memberId']}), referral code {me['referralCode']}, "
                      f"{me['points']['available']} points for joining")
    else:
        say("enroll", f"already enrolled as {me['name']} ({me['memberId']})")

    # 2. The dashboard: balances, the ways to earn, and the rewards (a connection, cheapest first). `id`
    #    is an opaque global id (`node(id:)` takes it); `memberId` and `rewardId` are the own ids.
    dashboard = run(member, DASHBOARD)
    before = dashboard["me"]["points"]
    rewards = [edge["node"] for edge in dashboard["rewards"]["edges"]]
    say("dashboard", f"{dashboard['me']['name']}: {balances(before)}")
    say("earn", ", ".join(f"{w['action']} {w['points']}" for w in dashboard["programSummary"]["waysToEarn"]))
    say("rewards", ", ".join(f"{r['rewardId']} ({r['pointsCost']})" for r in rewards))

    # 3. History, two entries a page: pass the last page's `endCursor` as `after` until `hasNextPage` is false.
    after, pages, entries = None, 0, 0
    while True:
        page = run(member, HISTORY, first=2, after=after)["me"]["pointsHistory"]
        pages += 1
        entries += len(page["edges"])
        shown = "; ".join(f"{e['node']['type']} {e['node']['points']:+d} {e['node']['status']}"
                          for e in page["edges"])
        say("history", f"page {pages}: {shown or 'no entries'}")
        if not page["pageInfo"]["hasNextPage"] or pages == 5:
            break
        after = page["pageInfo"]["endCursor"]
    say("history", f"{entries} entries in {pages} pages")

    # 4. Redeem the cheapest reward the member can afford. The Idempotency-Key header makes a retry safe:
    #    the same key returns the same coupon and spends nothing twice.
    affordable = sorted((r for r in rewards if r["pointsCost"] <= before["available"]),
                        key=lambda r: r["pointsCost"])
    if not affordable:
        raise WalkThroughFailed(f"no reward costs {before['available']} points or less")
    reward = affordable[0]
    key = str(uuid.uuid4())
    payload = ok(run(member, REDEEM, headers={"Idempotency-Key": key}, rewardId=reward["id"])["rewardRedeem"],
                 "rewardRedeem")
    redeemed = payload["redemption"]
    code = redeemed["code"]
    # The payload carries the member and the reward as the redemption left them: no refetch needed.
    say("redeem", f"coupon {code} for {reward['rewardId']} ({redeemed['points']} points), {redeemed['status']}; "
                  f"{payload['member']['points']['available']} points left")
    again = ok(run(member, REDEEM, headers={"Idempotency-Key": key}, rewardId=reward["id"])["rewardRedeem"],
               "rewardRedeem (retry)")["redemption"]
    if again["code"] != code:
        raise WalkThroughFailed(f"the retry with the same Idempotency-Key gave another coupon: {again['code']}")
    say("redeem", f"retried with the same Idempotency-Key: the same coupon {again['code']}")

    # 5. A typo at checkout. A bad argument to a query is a top-level error with extensions.code; a
    #    mutation refuses bad input in its payload's userErrors (field, code, message), every problem at once.
    order_id = f"web-{uuid.uuid4().hex[:10]}"
    typo = "THANKS-FOR-SHOPPING-WITH-US-2026-XL"  # 35 characters: codes are at most 32
    try:
        run(storefront, VALIDATE, code=typo)
        raise WalkThroughFailed("couponValidate accepted an over-long code")
    except TransportQueryError as e:
        error = e.errors[0] if e.errors else {}
        ext = error.get("extensions", {})
        say("error", f"couponValidate: {ext.get('code')} on {ext.get('field')}: {error.get('message')}")
    refused = run(storefront, CONSUME, code=typo, orderId=order_id)["couponConsume"]
    for problem in refused["userErrors"]:
        say("user-error", f"couponConsume: {problem['field']} {problem['code']}: {problem['message']}")
    if not refused["userErrors"] or refused["redemption"] is not None:
        raise WalkThroughFailed("couponConsume accepted an over-long code")

    # 6. The storefront looks the real coupon up, then consumes it on the order (once: a second time
    #    answers ALREADY_CONSUMED).
    coupon = run(storefront, VALIDATE, code=code)["couponValidate"]
    if coupon is None:
        raise WalkThroughFailed(f"couponValidate does not know {code}")
    say("coupon", f"{coupon['code']} is {coupon['status']}: {coupon['reward']['name']} for {coupon['memberId']}")
    used = ok(run(storefront, CONSUME, code=code, orderId=order_id)["couponConsume"], "couponConsume")
    say("coupon", f"{code} {used['redemption']['status']} on order {used['redemption']['orderId']}")

    # 7. The order system records the paid order (pending points, once however often it is sent),
    #    reports the delivery (the return window starts) and refunds one line (its points are reversed).
    now = datetime.now(timezone.utc).isoformat()
    recorded = ok(run(storefront, RECORD_ORDER, input={
        "orderId": order_id, "currency": "JPY", "orderedAt": now, "memberId": me["memberId"],
        "lines": [{"id": "1", "quantity": 1, "price": "4800", "sku": "SERUM-30", "category": "skincare"},
                  {"id": "2", "quantity": 1, "price": "3200", "sku": "TEE-01", "category": "apparel"}],
        "subtotal": "8000", "total": "8800"})["orderRecord"], "orderRecord")
    say("order", f"{order_id} {recorded['outcome']}: {recorded['points']} points pending for {recorded['memberId']}")
    delivered = ok(run(storefront, DELIVER, orderId=order_id, deliveredAt=now)["orderDeliver"], "orderDeliver")
    say("deliver", f"{order_id} {delivered['outcome']}: the return window starts now")
    refunded = ok(run(storefront, REFUND, input={
        "orderId": order_id, "returnId": f"{order_id}-r1", "resolution": "REFUND",
        "lines": [{"lineItemId": "2", "amount": "3200"}]})["orderReturnRecord"], "orderReturnRecord")
    left = {line["lineItemId"]: line for line in refunded["remaining"]}
    say("refund", f"{order_id} line 2 refunded: {refunded['pointsReversed']} points reversed; "
                  f"left to refund: line 1 {left['1']['amountLeft']}, line 2 {left['2']['amountLeft']}")

    # 8. The dashboard again: the coupon's points are spent, the order's are pending.
    after_all = run(member, DASHBOARD)["me"]["points"]
    say("dashboard", f"{dashboard['me']['name']}: {balances(after_all)}")
    say("done", f"spent {before['available'] - after_all['available']}, "
                f"pending {after_all['pending'] - before['pending']:+d}")
    member.client.close_sync()
    storefront.client.close_sync()


def main() -> int:
    args = parse_args()
    try:
        walk_through(args.url, args.member_token, args.service_token)
    except (WalkThroughFailed, TransportQueryError) as e:
        print(f"walk-through failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
