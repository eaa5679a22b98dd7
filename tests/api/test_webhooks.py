"""Shopify-shaped webhooks: signed, deduplicated, and crediting an order once with orderRecord alongside."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from api.http import Api
from api.messages import Request
from domain.errors import ErrorCode, UserErrors
from domain.points import shopify
from infra import keys
from infra.items import TableItem
from infra.points.items import OrderRecord, WebhookReceipt
from infra.points.orders import OrderBook
from infra.webhooks import WebhookFailure
from tests.api.points_support import HISTORY, ME_POINTS, ORDER, assert_books_balance, jobs
from tests.conftest import enroll
from tests.faults import Faults
from tests.support import GraphQLClient, Result
from tests.support import live_server as serve

SECRET = "test-webhook-secret"  # tenants["a"]'s secret in tests/conftest.py
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"
EASTERN = timezone(timedelta(hours=-4))
ORDER_POINTS = 117  # orders_paid.json: 117.00 USD of goods after the 10% discount, 1 point per dollar


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def fresh_id() -> int:
    """A Shopify-sized id above 2**53, where a float would lose digits; unique per test."""
    return 2 ** 53 + uuid.uuid4().int % 10 ** 15


def stamp(at: datetime) -> str:
    return at.astimezone(EASTERN).isoformat()


def shopify_order(name: str = "orders_paid.json", *, email: str, order_id: int | None = None,
                  ordered_at: datetime | None = None) -> dict[str, Any]:
    """A fixture made this test's own: a new order id, the test's customer, a recent order date."""
    order = load(name)
    order_id = order_id or fresh_id()
    order["id"] = order_id
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    if order.get("customer"):
        order["customer"]["email"] = email
        order["customer"]["id"] = fresh_id()
    order["email"] = order["contact_email"] = email
    order["created_at"] = order["processed_at"] = stamp(ordered_at or datetime.now(timezone.utc))
    for f in order.get("fulfillments", []):
        f["order_id"] = order_id
    return order


def order_record_input(order: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The same order as the order system would send it to the orderRecord mutation."""
    return {"orderId": str(order["id"]), "currency": order["currency"], "orderedAt": order["processed_at"],
            "lines": [{"id": str(x["id"]), "quantity": x["quantity"], "price": x["price"], "sku": x["sku"],
                       "productId": str(x["product_id"]), "category": x["product_type"] or None}
                      for x in order["line_items"]],
            "subtotal": order["subtotal_price"], "total": order["total_price"], **extra}


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_headers(topic: str, body: bytes, webhook_id: str | None = None) -> dict[str, str]:
    return {"content-type": "application/json", "x-shopify-topic": topic, "x-shopify-hmac-sha256": sign(body),
            "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
            "x-shopify-shop-domain": "kizuna-goods.myshopify.com", "x-shopify-api-version": "2026-01"}


class Shop:
    """Sends webhooks the way Shopify does, through Api.handle."""

    def __init__(self, client: GraphQLClient, tenant: str):
        self.client = client
        self.tenant = tenant

    def send(self, topic: str, payload: dict[str, Any] | bytes, *, webhook_id: str | None = None,
             headers: dict[str, str] | None = None, drop: tuple[str, ...] = (), tenant: str | None = None) -> Result:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        h = webhook_headers(topic, body, webhook_id) | (headers or {})
        for name in drop:
            h.pop(name)
        return self.client.raw(body, headers=h, path=f"/webhooks/shopify/{tenant or self.tenant}")


@pytest.fixture
def shop(client: GraphQLClient, tenant: str) -> Shop:
    return Shop(client, tenant)


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


@pytest.fixture
def email() -> str:
    return f"kizuna.{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def shopper(member: GraphQLClient, email: str, idp, member_id: str) -> GraphQLClient:
    """An enrolled member whose Shopify customer email is `email`, vouched for by the IdP."""
    member = member.as_(idp.member_token(member_id, email=email))
    enroll(member, email=email)
    return member


def points(member: GraphQLClient) -> dict[str, int]:
    p = member.ok(ME_POINTS)["me"]["points"]
    return {k: p[k] for k in ("available", "pending", "lifetime", "debt")}


def history(member: GraphQLClient) -> list[tuple[str, int, str, str | None]]:
    edges = member.ok(HISTORY, {"first": 50})["me"]["pointsHistory"]["edges"]
    return [(e["node"]["type"], e["node"]["points"], e["node"]["status"], e["node"]["orderId"]) for e in edges]


def record_of(tenant: str, member_id: str, order_id: int) -> OrderRecord:
    return OrderRecord.get(keys.member_pk(tenant, member_id), keys.order_sk(str(order_id)), consistent_read=True)


def receipt_exists(tenant: str, webhook_id: str) -> bool:
    try:
        WebhookReceipt.get(keys.webhook_pk(tenant, webhook_id), "RECEIPT", consistent_read=True)
    except WebhookReceipt.DoesNotExist:
        return False
    return True


NOTHING = {"available": 0, "pending": 0, "lifetime": 0, "debt": 0}
FAILURES = """query F($first: Int, $after: String) { webhookFailures(first: $first, after: $after) {
  edges { cursor node { id failureId receivedAt topic webhookId errors { code field message } body bodyBytes truncated
  correlationId } } pageInfo { hasNextPage endCursor } } }"""


def list_failures(admin: GraphQLClient) -> list[dict[str, Any]]:
    return [e["node"] for e in admin.ok(FAILURES, {"first": 100})["webhookFailures"]["edges"]]


def failures_in(tenant: str, since: str) -> list[WebhookFailure]:
    return list(WebhookFailure.query(keys.webhook_failures_pk(tenant), WebhookFailure.SK >= since,
                                     consistent_read=True))


# -- the payload on its own ---------------------------------------------------------------------------
def test_ids_stay_exact_strings_and_emails_fall_back_for_guests():
    big = 2 ** 63 - 25
    body = json.dumps(shopify_order(email="X@Example.COM", order_id=big)).encode()
    event = shopify.parse(shopify.Topic.ORDERS_PAID, shopify.load_body(body))
    assert isinstance(event, shopify.OrderEvent)
    assert event.order.id == str(big) and event.order.email == "x@example.com"
    assert event.order.subtotal == Decimal("117.00") and event.order.total == Decimal("133.86")
    assert [x.category for x in event.order.lines] == ["apparel", "skincare"]
    guest = load("orders_paid_guest.json")
    event = shopify.parse(shopify.Topic.ORDERS_PAID, guest)
    assert event.order.customer_id is None and event.order.email == "ren.guest@example.com"
    assert event.order.lines[0].category is None  # an empty product_type is no category
    del guest["email"]
    assert shopify.parse(shopify.Topic.ORDERS_PAID, guest).order.email == "ren.guest@example.com"  # contact_email


def test_a_refund_without_a_subtotal_uses_the_line_price_times_the_quantity():
    refund = load("refunds_create.json")
    assert shopify.parse(shopify.Topic.REFUNDS_CREATE, refund).lines[0].amount == Decimal("34.2")
    del refund["refund_line_items"][0]["subtotal"]
    assert shopify.parse(shopify.Topic.REFUNDS_CREATE, refund).lines[0].amount == Decimal("38.00")


def test_missing_and_wrongly_typed_fields_are_user_errors_naming_each_field():
    order = load("orders_paid.json")
    del order["total_price"]
    order["line_items"][0]["quantity"] = "two"
    order["line_items"][1]["price"] = {"amount": "54.00"}
    order["customer"] = "aiko"
    order["processed_at"] = "2026-03-14 10:21"  # no zone
    with pytest.raises(UserErrors) as raised:
        shopify.parse(shopify.Topic.ORDERS_PAID, order)
    assert {(e.field, e.code) for e in raised.value.errors} == {
        ("total_price", ErrorCode.REQUIRED), ("line_items.0.quantity", ErrorCode.INVALID),
        ("line_items.1.price", ErrorCode.INVALID), ("customer", ErrorCode.INVALID),
        ("processed_at", ErrorCode.INVALID)}
    for topic, payload in ((shopify.Topic.REFUNDS_CREATE, {"id": 1, "refund_line_items": 3}),
                           (shopify.Topic.FULFILLMENTS_UPDATE, {"order_id": [1]}),
                           (shopify.Topic.ORDERS_FULFILLED, {"financial_status": 7})):
        with pytest.raises(UserErrors):
            shopify.parse(topic, payload)


def test_fulfilled_orders_are_delivered_at_their_latest_fulfillment():
    order = load("orders_fulfilled.json")
    first = order["fulfillments"][0]
    order["fulfillments"].append(first | {"id": 4953712214173, "created_at": "2026-03-18T08:00:00-04:00",
                                          "updated_at": "2026-03-18T08:00:00-04:00"})
    event = shopify.parse(shopify.Topic.ORDERS_FULFILLED, order)
    assert event.order.delivered_at == datetime(2026, 3, 18, 12, tzinfo=timezone.utc)
    order["fulfillments"] = []
    event = shopify.parse(shopify.Topic.ORDERS_FULFILLED, order)
    assert event.order.delivered_at == datetime(2026, 3, 16, 13, 2, 14, tzinfo=timezone.utc)  # the order's updated_at


# -- through the API, against DynamoDB Local -----------------------------------------------------------
def test_a_signed_orders_paid_credits_pending_points_as_order_record_would(shop, shopper, member_id, email, service,
                                                                          tenant):
    order = shopify_order(email=email.upper())
    r = shop.send("orders/paid", order)
    assert (r.status, r.body) == (200, {"outcome": "CREDITED", "orderId": str(order["id"]), "memberId": member_id,
                                        "points": ORDER_POINTS})
    assert points(shopper) == {"available": 0, "pending": ORDER_POINTS, "lifetime": ORDER_POINTS, "debt": 0}
    assert history(shopper) == [("EARN", ORDER_POINTS, "PENDING", str(order["id"]))]  # the 64-bit id, exact
    # The mutation with the same order finds it credited; a twin order through the mutation earns the same.
    same = service.ok(ORDER, {"input": order_record_input(order, memberId=member_id)})["orderRecord"]
    assert same["outcome"] == "DUPLICATE"
    twin = service.ok(ORDER, {"input": order_record_input(order, orderId=str(fresh_id()), email=email)})["orderRecord"]
    assert twin["outcome"] == "CREDITED" and twin["points"] == ORDER_POINTS
    assert_books_balance(tenant, member_id)


def test_unsigned_or_misaddressed_requests_are_refused_and_kept_nowhere(shop, shopper, email, tenant):
    since = datetime.now(timezone.utc).isoformat()
    order = shopify_order(email=email)
    forged = json.dumps(order).encode()
    cases: list[tuple[Result, int]] = [
        (shop.send("orders/paid", forged, headers={"x-shopify-hmac-sha256": sign(forged, "not-the-secret")}), 401),
        (shop.send("orders/paid", order, drop=("x-shopify-hmac-sha256",)), 401),
        (shop.send("orders/paid", order | {"total_price": "1.00"}, headers={"x-shopify-hmac-sha256": sign(forged)}),
         401),  # a real signature, of another body
        (shop.send("orders/paid", order, tenant=f"t-{uuid.uuid4().hex[:12]}"), 404),
    ]
    for result, status in cases:
        assert result.status == status, result.body
    assert points(shopper) == NOTHING
    assert not failures_in(tenant, since)


def test_signed_deliveries_that_can_never_apply_are_kept_as_failures_and_answered_rejected(
        shop, shopper, email, tenant, admin):
    """Shopify retries every non-2xx for 48 hours: a delivery that would fail the same way every time
    is kept for staff and acknowledged, so the sender stops."""
    def order(name: str = "orders_paid.json", **changes: Any) -> dict[str, Any]:
        return shopify_order(name, email=email) | changes

    negative, absurd = order(total_price="-133.86"), order(subtotal_price="9999999999.00", total_price="9999999999.99")
    wrong_types = order()
    wrong_types["line_items"][0]["quantity"] = "2"
    missing = order()
    del missing["line_items"]
    cases: list[tuple[Result, str, str | None]] = [
        (shop.send("orders/paid", b'{"id": 5690148716701, "line_items": ['), "INVALID", None),
        (shop.send("orders/paid", b'[1, 2, 3]'), "INVALID", None),
        (shop.send("orders/paid", order(), drop=("x-shopify-topic",)), "REQUIRED", "X-Shopify-Topic"),
        (shop.send("orders/paid", negative), "OUT_OF_RANGE", "total_price"),
        (shop.send("orders/paid", absurd), "OUT_OF_RANGE", "total_price"),
        (shop.send("orders/paid", order(total_price="1,337.00")), "INVALID", "total_price"),
        (shop.send("orders/paid", shopify_order("orders_paid_unknown_currency.json", email=email)),
         "UNKNOWN_CURRENCY", "currency"),
        (shop.send("orders/paid", wrong_types), "INVALID", "line_items.0.quantity"),
        (shop.send("orders/paid", missing), "REQUIRED", "line_items"),
        (shop.send("orders/paid", order(processed_at="9999-12-31T23:59:59-04:00")), "OUT_OF_RANGE", "processed_at"),
    ]
    failure_ids = []
    for result, code, field in cases:
        assert (result.status, result.body["outcome"]) == (200, "REJECTED"), result.body
        assert (code, field) in [(e["code"], e["field"]) for e in result.body["errors"]], result.body
        failure_ids.append(result.body["failureId"])
    assert points(shopper) == NOTHING
    assert history(shopper) == []
    for payload in (negative, absurd, wrong_types):
        assert not list(TableItem.query(keys.order_pk(tenant, str(payload["id"]))))
    listed = list_failures(admin)
    by_id = {f["failureId"]: f for f in listed}
    assert set(failure_ids) <= set(by_id)
    negative_failure = by_id[failure_ids[3]]
    assert negative_failure["topic"] == "orders/paid" and negative_failure["webhookId"]
    assert ("OUT_OF_RANGE", "total_price") in [(e["code"], e["field"]) for e in negative_failure["errors"]]
    assert json.loads(negative_failure["body"])["total_price"] == "-133.86"
    assert not negative_failure["truncated"]


def test_a_rejected_webhook_keeps_no_receipt_so_a_redelivery_after_the_fix_is_processed(shop, shopper, email,
                                                                                       tenant):
    order = shopify_order(email=email)
    webhook_id = str(uuid.uuid4())
    bad = shop.send("orders/paid", order | {"total_price": "-1"}, webhook_id=webhook_id)
    assert (bad.status, bad.body["outcome"]) == (200, "REJECTED") and not receipt_exists(tenant, webhook_id)
    good = shop.send("orders/paid", order, webhook_id=webhook_id)
    assert good.body["outcome"] == "CREDITED"


def test_a_failure_keeps_at_most_8_kib_of_the_body(shop, shopper, email, admin):
    order = shopify_order(email=email) | {"note": "雪" * 6000, "total_price": "-1"}  # 18 KB of three-byte text
    r = shop.send("orders/paid", order)
    assert r.body["outcome"] == "REJECTED"
    kept = next(f for f in list_failures(admin) if f["failureId"] == r.body["failureId"])
    assert kept["truncated"] and len(kept["body"].encode()) <= 8 * 1024 < kept["bodyBytes"]
    assert json.dumps(order).startswith(kept["body"])  # the start of the body, cut on a character


def test_webhook_failures_are_for_admins_newest_first_in_pages(shop, shopper, email, admin, client, idp, clock):
    t0 = datetime.now(timezone.utc) + timedelta(days=3650)  # after any other test's failures
    ids = []
    for i in range(3):
        clock.set(t0 + timedelta(minutes=i))
        ids.append(shop.send("orders/paid", shopify_order(email=email) | {"total_price": "-1"}).body["failureId"])
    first = admin.ok(FAILURES, {"first": 2})["webhookFailures"]
    assert [e["node"]["failureId"] for e in first["edges"]] == ids[::-1][:2] and first["pageInfo"]["hasNextPage"]
    after = admin.ok(FAILURES, {"first": 1, "after": first["pageInfo"]["endCursor"]})["webhookFailures"]
    assert [e["node"]["failureId"] for e in after["edges"]] == [ids[0]]
    moderator = client.as_(idp.staff_token("staff-mod", "kizuna-moderators"))
    for who in (moderator, shopper, client.as_(idp.service_token())):
        assert who(FAILURES, {"first": 1}).error_codes() == ["FORBIDDEN"]


def test_a_throttled_delivery_answers_503_with_retry_after_and_its_retry_credits_once(shop, shopper, member_id,
                                                                                    email, tenant):
    order = shopify_order(email=email)
    webhook_id = str(uuid.uuid4())
    body = json.dumps(order).encode()
    with Faults() as faults:
        faults.throttle()
        busy = shop.client.api.handle(Request("POST", f"/webhooks/shopify/{tenant}",
                                              webhook_headers("orders/paid", body, webhook_id), body))
    assert (busy.status, busy.headers.get("retry-after")) == (503, "1"), busy.body
    assert json.loads(busy.body)["errors"][0]["extensions"]["code"] == "RETRY_LATER"
    assert points(shopper) == NOTHING and not receipt_exists(tenant, webhook_id)
    retried = shop.send("orders/paid", order, webhook_id=webhook_id)
    assert (retried.status, retried.body["outcome"], retried.body["points"]) == (200, "CREDITED", ORDER_POINTS)
    assert shop.send("orders/paid", order, webhook_id=webhook_id).body == {"outcome": "DUPLICATE"}
    assert points(shopper)["pending"] == ORDER_POINTS
    assert_books_balance(tenant, member_id)


def test_a_delivery_whose_balance_kept_changing_is_503_not_rejected(shop, shopper, member_id, email, tenant):
    """CONFLICT is an input error to no one: the same delivery goes through once the balance holds still."""
    with Faults() as faults:
        profile = faults.client.get_item(TableName=TableItem.Meta.table_name, ConsistentRead=True, Key={
            "PK": {"S": keys.member_pk(tenant, member_id)}, "SK": {"S": keys.PROFILE}})["Item"]
        faults.cancel(at={-1: {"Code": "ConditionalCheckFailed", "Item": profile}})  # the profile, every time
        r = shop.send("orders/paid", shopify_order(email=email))
    assert (r.status, r.body["errors"][0]["extensions"]["code"]) == (503, "RETRY_LATER"), r.body
    assert points(shopper) == NOTHING


def test_a_bug_inside_a_signed_delivery_is_a_500_logged_with_its_correlation_id(shop, shopper, email, monkeypatch,
                                                                               caplog):
    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("a bug of ours")

    monkeypatch.setattr(OrderBook, "record", broken)
    with caplog.at_level(logging.ERROR, logger="kizuna.webhooks"):
        r = shop.send("orders/paid", shopify_order(email=email), headers={"x-correlation-id": "cid-webhook-bug"})
    assert r.status == 500 and "cid-webhook-bug" in r.body["errors"][0]["message"], r.body
    assert [x.correlation_id for x in caplog.records if x.name == "kizuna.webhooks"] == ["cid-webhook-bug"]


def test_the_same_webhook_twice_is_a_duplicate_and_never_credits_twice(shop, shopper, email, tenant, clock):
    clock.set(datetime(2026, 3, 14, 15, tzinfo=timezone.utc))
    order = shopify_order(email=email)
    webhook_id = str(uuid.uuid4())
    assert shop.send("orders/paid", order, webhook_id=webhook_id).body["outcome"] == "CREDITED"
    again = shop.send("orders/paid", order, webhook_id=webhook_id)
    assert (again.status, again.body) == (200, {"outcome": "DUPLICATE"})
    receipt = WebhookReceipt.get(keys.webhook_pk(tenant, webhook_id), "RECEIPT")
    assert (receipt.topic, receipt.expires_at) == ("orders/paid", datetime(2026, 3, 21, 15, tzinfo=timezone.utc)
                                                   .timestamp())
    # Another delivery id for the same order (a resend from the Shopify admin): the order's own key holds.
    other = shop.send("orders/paid", order)
    assert (other.body["outcome"], other.body["points"]) == ("DUPLICATE", 0)
    assert points(shopper)["pending"] == ORDER_POINTS


def test_refunds_create_reverses_the_refunded_line_in_proportion(shop, shopper, member_id, email, tenant):
    order = shopify_order(email=email)
    shop.send("orders/paid", order)
    refund = load("refunds_create.json") | {"order_id": order["id"]}
    r = shop.send("refunds/create", refund)
    # The tee line earned 68 points on 68.40 paid; one tee refunded at 34.20 takes back half of them.
    assert (r.status, r.body) == (200, {"outcome": "REVERSED", "orderId": str(order["id"]), "memberId": member_id,
                                        "points": 34, "refundId": str(refund["id"])})
    again = shop.send("refunds/create", refund)  # a new delivery of the same refund
    assert (again.body["outcome"], again.body["points"]) == ("DUPLICATE", 0)
    assert points(shopper) == {"available": 0, "pending": ORDER_POINTS - 34, "lifetime": ORDER_POINTS, "debt": 0}
    assert sorted(history(shopper)) == [("EARN", ORDER_POINTS, "PENDING", str(order["id"])),
                                        ("REVERSAL", -34, "POSTED", str(order["id"]))]
    assert_books_balance(tenant, member_id)


def test_a_refund_listed_on_a_late_orders_paid_is_applied_once(shop, shopper, email):
    order = shopify_order(email=email)
    refund = load("refunds_create.json") | {"order_id": order["id"]}
    early = shop.send("refunds/create", refund)  # before the order is known: nothing to reverse yet
    assert (early.status, early.body["outcome"]) == (200, "IGNORED")
    late = shop.send("orders/paid", order | {"financial_status": "partially_refunded", "refunds": [refund]})
    assert (late.body["outcome"], late.body["points"], late.body["pointsReversed"]) == ("CREDITED", ORDER_POINTS, 34)
    assert shop.send("refunds/create", refund).body["outcome"] == "DUPLICATE"
    assert points(shopper)["pending"] == ORDER_POINTS - 34


def tee_refund(order: dict[str, Any], *, subtotal: Any = 34.2, quantity: int = 1, **changes: Any) -> dict[str, Any]:
    """refunds_create.json for this order: one tee (of the two bought, 76.00 before the discount) at `subtotal`."""
    refund = load("refunds_create.json") | {"order_id": order["id"], "id": fresh_id()}
    refund["refund_line_items"][0] |= {"subtotal": subtotal, "quantity": quantity, **changes}
    return refund


def test_a_refund_beyond_what_is_left_of_a_line_is_rejected_kept_for_staff_and_changes_nothing(
        shop, shopper, member_id, email, tenant):
    order = shopify_order(email=email)
    shop.send("orders/paid", order)
    lines_before = record_of(tenant, member_id, order["id"]).lines
    cases = [
        (tee_refund(order, subtotal=999), "OUT_OF_RANGE", "refund_line_items.0.subtotal"),
        (tee_refund(order, quantity=3), "OUT_OF_RANGE", "refund_line_items.0.quantity"),
        (tee_refund(order, line_item_id=fresh_id()), "NOT_FOUND", "refund_line_items.0.line_item_id"),
    ]
    for refund, code, field in cases:
        r = shop.send("refunds/create", refund)
        assert (r.status, r.body["outcome"]) == (200, "REJECTED"), r.body
        assert [(e["code"], e["field"]) for e in r.body["errors"]] == [(code, field)], r.body
        kept = WebhookFailure.get(keys.webhook_failures_pk(tenant), r.body["failureId"], consistent_read=True)
        assert (kept.topic, kept.errors[0]["code"], kept.errors[0]["field"]) == ("refunds/create", code, field)
    assert record_of(tenant, member_id, order["id"]).lines == lines_before
    assert points(shopper)["pending"] == ORDER_POINTS
    # Partial refunds add up: both tees one by one (34 and 34 of the line's 68 points), then a third is refused.
    for _ in range(2):
        r = shop.send("refunds/create", tee_refund(order))
        assert (r.body["outcome"], r.body["points"]) == ("REVERSED", 34), r.body
    third = shop.send("refunds/create", tee_refund(order, subtotal=1))
    assert (third.status, third.body["outcome"]) == (200, "REJECTED")
    assert [(e["code"], e["field"]) for e in third.body["errors"]] == [("OUT_OF_RANGE", "refund_line_items.0.quantity")]
    assert points(shopper) == {"available": 0, "pending": ORDER_POINTS - 68, "lifetime": ORDER_POINTS, "debt": 0}
    assert_books_balance(tenant, member_id)


def test_an_order_listing_refunds_that_exceed_its_lines_is_rejected_and_nothing_of_it_is_credited(
        shop, shopper, email, tenant):
    order = shopify_order(email=email)
    both = [tee_refund(order, subtotal=68.4, quantity=2), tee_refund(order, subtotal=68.4, quantity=2)]
    r = shop.send("orders/paid", order | {"financial_status": "refunded", "refunds": both})
    assert (r.status, r.body["outcome"]) == (200, "REJECTED"), r.body
    assert sorted((e["code"], e["field"]) for e in r.body["errors"]) == [
        ("OUT_OF_RANGE", "refunds.1.refund_line_items.0.quantity"),
        ("OUT_OF_RANGE", "refunds.1.refund_line_items.0.subtotal")]
    assert points(shopper) == NOTHING
    assert not list(TableItem.query(keys.order_pk(tenant, str(order["id"]))))
    # The same order with the refunds it really had goes through, each refund once.
    fine = shop.send("orders/paid", order | {"financial_status": "refunded", "refunds": both[:1]})
    assert (fine.body["outcome"], fine.body["points"], fine.body["pointsReversed"]) == ("CREDITED", ORDER_POINTS, 68)


def test_a_listed_refund_that_no_longer_fits_is_rejected_while_the_order_and_other_refunds_stand(
        shop, shopper, member_id, email, tenant):
    order = shopify_order(email=email)
    first = tee_refund(order, subtotal=68.4, quantity=2)
    assert shop.send("orders/paid", order).body["outcome"] == "CREDITED"
    assert shop.send("refunds/create", first).body["points"] == 68
    # The order again, listing another refund of the tees (they were refunded already) and the first one.
    other = tee_refund(order, subtotal=10, quantity=1)
    r = shop.send("orders/paid", order | {"financial_status": "refunded", "refunds": [first, other]})
    assert (r.status, r.body["outcome"]) == (200, "REJECTED"), r.body
    assert sorted((e["code"], e["field"]) for e in r.body["errors"]) == [
        ("OUT_OF_RANGE", "refunds.1.refund_line_items.0.quantity"),
        ("OUT_OF_RANGE", "refunds.1.refund_line_items.0.subtotal")]
    assert points(shopper)["pending"] == ORDER_POINTS - 68
    assert_books_balance(tenant, member_id)


def test_a_guest_orders_refund_beyond_its_line_is_rejected_and_not_kept_with_it(shop, tenant):
    email = f"ren.guest+{uuid.uuid4().hex[:8]}@example.com"
    order = load("orders_paid_guest.json") | {"id": fresh_id(), "email": email, "contact_email": email,
                                              "processed_at": stamp(datetime.now(timezone.utc))}
    assert shop.send("orders/paid", order).body["outcome"] == "HELD_FOR_ENROLLMENT"
    line = order["line_items"][0]
    refund = load("refunds_create.json") | {"order_id": order["id"], "id": fresh_id()}
    refund["refund_line_items"][0] |= {"line_item_id": line["id"], "quantity": line["quantity"] + 1, "subtotal": 1}
    r = shop.send("refunds/create", refund)
    assert (r.status, r.body["outcome"]) == (200, "REJECTED"), r.body
    assert [(e["code"], e["field"]) for e in r.body["errors"]] == [("OUT_OF_RANGE", "refund_line_items.0.quantity")]
    held = next(iter(TableItem.query(keys.email_pk(tenant, email), consistent_read=True)))
    assert held.refunds == []


def test_orders_fulfilled_starts_the_return_window_at_the_fulfillment(shop, shopper, member_id, email, tenant,
                                                                     services):
    ordered = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
    order = shopify_order(email=email, ordered_at=ordered)
    shop.send("orders/paid", order)
    assert record_of(tenant, member_id, order["id"]).release_at == (ordered + timedelta(days=30)).isoformat()
    fulfilled = shopify_order("orders_fulfilled.json", email=email, order_id=order["id"], ordered_at=ordered)
    shipped = ordered + timedelta(days=10)
    fulfilled["fulfillments"][0]["created_at"] = fulfilled["fulfillments"][0]["updated_at"] = stamp(shipped)
    r = shop.send("orders/fulfilled", fulfilled)
    assert (r.status, r.body["outcome"], r.body["points"]) == (200, "DELIVERY_RECORDED", 0)
    assert record_of(tenant, member_id, order["id"]).release_at == (shipped + timedelta(days=30)).isoformat()
    jobs(services, tenant).release_due(ordered + timedelta(days=31))  # the old window's end releases nothing
    assert points(shopper)["pending"] == ORDER_POINTS
    jobs(services, tenant).release_due(shipped + timedelta(days=30, seconds=1))
    assert points(shopper) == {"available": ORDER_POINTS, "pending": 0, "lifetime": ORDER_POINTS, "debt": 0}


def test_a_delivered_fulfillment_moves_the_window_and_one_in_transit_changes_nothing(shop, shopper, member_id,
                                                                                    email, tenant):
    ordered = datetime.now(timezone.utc).replace(microsecond=0)
    order = shopify_order(email=email, ordered_at=ordered)
    shop.send("orders/paid", order)
    fulfillment = load("fulfillment_delivered.json") | {"order_id": order["id"]}
    in_transit = shop.send("fulfillments/update", fulfillment | {"shipment_status": "in_transit"})
    assert (in_transit.status, in_transit.body["outcome"]) == (200, "IGNORED")
    delivered = ordered + timedelta(days=5)
    r = shop.send("fulfillments/update", fulfillment | {"updated_at": stamp(delivered)})
    assert (r.status, r.body["outcome"], r.body["memberId"]) == (200, "DELIVERY_RECORDED", member_id)
    assert record_of(tenant, member_id, order["id"]).release_at == (delivered + timedelta(days=30)).isoformat()
    assert shop.send("fulfillments/update", fulfillment | {"updated_at": stamp(delivered + timedelta(days=1))}
                     ).body["outcome"] == "DUPLICATE"  # the window moves once
    unknown = shop.send("fulfillments/create", fulfillment | {"order_id": fresh_id()})
    assert (unknown.status, unknown.body["outcome"]) == (200, "IGNORED")


def test_a_guest_order_waits_for_its_email_to_enroll(shop, member, member_id, idp):
    email = f"Ren.Guest+{uuid.uuid4().hex[:8]}@Example.com"
    order = load("orders_paid_guest.json") | {"id": fresh_id(), "email": email, "contact_email": email,
                                              "processed_at": stamp(datetime.now(timezone.utc))}
    assert "customer" not in order
    r = shop.send("orders/paid", order)
    assert (r.status, r.body["outcome"], r.body["memberId"]) == (200, "HELD_FOR_ENROLLMENT", None)
    member = member.as_(idp.member_token(member_id, email=email))  # the IdP vouches for the address
    enroll(member, email=email.lower())
    assert points(member) == {"available": 0, "pending": 24, "lifetime": 24, "debt": 0}
    assert history(member) == [("EARN", 24, "PENDING", str(order["id"]))]


def test_unpaid_orders_and_unknown_topics_are_acknowledged_and_ignored(shop, shopper, email, tenant):
    order = shopify_order(email=email) | {"financial_status": "pending"}
    r = shop.send("orders/paid", order)
    assert (r.status, r.body["outcome"]) == (200, "IGNORED") and "financial_status" in r.body["reason"]
    r = shop.send("customers/update", {"id": 7420012290205, "email": email})
    assert (r.status, r.body["outcome"]) == (200, "IGNORED")
    assert points(shopper) == NOTHING
    assert not list(TableItem.query(keys.order_pk(tenant, str(order["id"]))))


# -- the promise: one credit per order, however it is delivered -----------------------------------------
@pytest.fixture
def live_server(services) -> Iterator[str]:
    with serve(Api(services)) as url:
        yield url


@pytest.mark.slow
def test_one_order_delivered_20_times_at_once_by_mutation_and_webhook_is_credited_once(
        live_server, shopper, member_id, email, tenant, idp):
    senders = 20
    rounds = 3
    token = idp.service_token()
    for _ in range(rounds):
        order = shopify_order(email=email)
        body = json.dumps(order).encode()
        mutation = json.dumps({"query": ORDER, "variables": {"input": order_record_input(order, memberId=member_id)}})
        barrier = threading.Barrier(senders)
        outcomes: list[str] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def send(i: int) -> None:
            try:
                with httpx.Client(base_url=live_server, timeout=30) as http:
                    barrier.wait(timeout=30)
                    if i % 2:
                        r = http.post("/graphql", content=mutation, headers={
                            "content-type": "application/json", "authorization": f"Bearer {token}"})
                        assert r.status_code == 200, r.text
                        payload = r.json()["data"]["orderRecord"]
                        assert payload["userErrors"] == [], payload
                        outcome = payload["outcome"]
                    else:
                        r = http.post(f"/webhooks/shopify/{tenant}", content=body,
                                      headers=webhook_headers("orders/paid", body))
                        assert r.status_code == 200, r.text
                        outcome = r.json()["outcome"]
                with lock:
                    outcomes.append(outcome)
            except BaseException as e:  # reported by the main thread
                with lock:
                    failures.append(e)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failures, failures
        assert Counter(outcomes) == {"CREDITED": 1, "DUPLICATE": senders - 1}, outcomes
        earned = [h for h in history(shopper) if h[0] == "EARN" and h[3] == str(order["id"])]
        assert earned == [("EARN", ORDER_POINTS, "PENDING", str(order["id"]))]
    assert points(shopper) == {"available": 0, "pending": rounds * ORDER_POINTS, "lifetime": rounds * ORDER_POINTS,
                               "debt": 0}
    assert_books_balance(tenant, member_id)


def test_a_signed_order_over_64_kib_is_processed_and_only_graphql_keeps_the_64_kib_cap(shop, shopper, email, client):
    order = shopify_order(email=email) | {"note": "x" * 200_000}  # a large order: many lines, long notes
    r = shop.send("orders/paid", order)
    assert (r.status, r.body["outcome"]) == (200, "CREDITED"), r.body
    assert client.raw(b" " * (64 * 1024 + 1)).status == 413
