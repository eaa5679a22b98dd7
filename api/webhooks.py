"""Shopify-shaped order webhooks: check the tenant and the HMAC, drop repeats, record what the order system says."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from pynamodb.exceptions import PynamoDBException

from api.messages import Request, Response, error_response, json_response
from domain.errors import ErrorCode, UserError, UserErrors
from domain.points import shopify
from domain.points.orders import ReturnRequest
from infra import keys
from infra.points.items import WebhookReceipt
from infra.points.orders import OrderBook, OrderOutcome, OrderResult, ReturnResult
from infra.points.program_store import ProgramCache, ProgramStore

log = logging.getLogger("kizuna.webhooks")

PREFIX = "/webhooks/shopify/"
RECEIPT_SK = "RECEIPT"
# Shopify retries a failed delivery for up to 48 hours; a week of receipts covers every retry.
RECEIPT_TTL = timedelta(days=7)
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

# Outcomes beyond OrderOutcome's: a refund that took points back, and a webhook that changes nothing.
REVERSED = "REVERSED"
IGNORED = "IGNORED"
DUPLICATE = OrderOutcome.DUPLICATE.value


def signature(secret: str, body: bytes) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(secret: str, body: bytes, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), given.strip().encode("utf-8", "replace"))


def _errors(status: int, errors: list[UserError], cid: str) -> Response:
    return json_response(status, {"errors": [
        {"message": e.message, "extensions": {"code": e.code.value, "field": e.field}} for e in errors]}, cid)


class ShopifyWebhooks:
    """POST /webhooks/shopify/<tenant>. Correctness rests on the order book's natural keys (one credit
    per order, one reversal per refund); the receipt only spares a repeat the work."""

    def __init__(self, secrets: Mapping[str, str], programs: ProgramCache, clock: Callable[[], datetime]):
        self.secrets = secrets
        self.programs = programs
        self.clock = clock

    def __call__(self, req: Request, cid: str) -> Response:
        tenant = req.path[len(PREFIX):].rstrip("/") if req.path.startswith(PREFIX) else ""
        secret = self.secrets.get(tenant) if tenant and "/" not in tenant else None
        if not secret:  # an unknown tenant looks like any unknown path
            return error_response(404, "NOT_FOUND", "No such endpoint.", cid)
        if req.method != "POST":
            resp = error_response(405, "METHOD_NOT_ALLOWED", "Webhooks must be POST.", cid)
            resp.headers["allow"] = "POST"
            return resp
        if not signed_by(secret, req.body, req.headers.get("x-shopify-hmac-sha256")):
            log.warning("webhook signature rejected", extra={"correlation_id": cid, "tenant": tenant})
            return error_response(401, "UNAUTHENTICATED", "The webhook signature is missing or does not match.", cid)
        raw_topic = (req.headers.get("x-shopify-topic") or "").strip()
        if not raw_topic:
            return _errors(400, [UserError(ErrorCode.REQUIRED, "X-Shopify-Topic is required.", "X-Shopify-Topic")],
                           cid)
        webhook_id = (req.headers.get("x-shopify-webhook-id") or "").strip() or None
        if webhook_id is not None and not _WEBHOOK_ID.match(webhook_id):
            return _errors(400, [UserError(ErrorCode.INVALID, "X-Shopify-Webhook-Id is not a valid id.",
                                           "X-Shopify-Webhook-Id")], cid)
        now = self.clock()
        if webhook_id is not None and self._received(tenant, webhook_id, now):
            return json_response(200, {"outcome": DUPLICATE}, cid)

        topic = shopify.topic_of(raw_topic)
        try:
            if topic is None:
                outcome: dict[str, Any] = {"outcome": IGNORED, "reason": f"topic {raw_topic!r} is not handled"}
            else:
                parsed = shopify.parse(topic, shopify.load_body(req.body))
                outcome = self._apply(OrderBook(tenant, ProgramStore(tenant, self.programs)), parsed, now)
        except (UserError, UserErrors) as e:
            errors = e.errors if isinstance(e, UserErrors) else [e]
            log.info("webhook refused: %s", [x.code.value for x in errors],
                     extra={"correlation_id": cid, "tenant": tenant, "topic": raw_topic})
            conflict = any(x.code is ErrorCode.CONFLICT for x in errors)
            return _errors(409 if conflict else 400, errors, cid)
        if webhook_id is not None:
            self._keep_receipt(tenant, webhook_id, raw_topic, now)
        log.info("webhook %s: %s", raw_topic, outcome["outcome"], extra={"correlation_id": cid, "tenant": tenant})
        return json_response(200, outcome, cid)

    # -- what each kind of webhook does ---------------------------------------------------------
    def _apply(self, book: OrderBook, parsed: shopify.Parsed, now: datetime) -> dict[str, Any]:
        if isinstance(parsed, shopify.Ignored):
            return {"outcome": IGNORED, "reason": parsed.reason}
        if isinstance(parsed, shopify.OrderEvent):
            try:
                result = book.record(parsed.order, now)
            except (UserError, UserErrors) as e:
                raise shopify.in_payload_terms(e, shopify.ORDER_FIELDS) from e
            body = _order_body(result)
            if parsed.refunds and result.outcome is not OrderOutcome.NO_CUSTOMER:
                # Refunds made before this webhook arrived: each is taken back once, by its id.
                body["pointsReversed"] = sum(_return(book, r, now).points_reversed for r in parsed.refunds)
            return body
        if isinstance(parsed, shopify.Delivery):
            if book.owner(parsed.order_id) is None:
                return _unknown_order(parsed.order_id)
            return _order_body(book.deliver(parsed.order_id, parsed.delivered_at))
        return self._refund(book, parsed, now)

    @staticmethod
    def _refund(book: OrderBook, req: ReturnRequest, now: datetime) -> dict[str, Any]:
        if book.owner(req.order_id) is None:
            # Not credited (yet): when the order arrives, its payload lists this refund and it is applied then.
            return _unknown_order(req.order_id)
        r = _return(book, req, now)
        outcome = DUPLICATE if r.duplicate else REVERSED if r.member_id else OrderOutcome.HELD_FOR_ENROLLMENT.value
        return {"outcome": outcome, "orderId": r.order_id, "memberId": r.member_id or None,
                "points": r.points_reversed, "refundId": req.return_id}

    # -- receipts ----------------------------------------------------------------------------------
    @staticmethod
    def _received(tenant: str, webhook_id: str, now: datetime) -> bool:
        try:
            receipt = WebhookReceipt.get(keys.webhook_pk(tenant, webhook_id), RECEIPT_SK)
        except WebhookReceipt.DoesNotExist:
            return False
        # TTL deletion lags; a receipt past its time no longer counts.
        return receipt.expires_at is None or receipt.expires_at > now.timestamp()

    @staticmethod
    def _keep_receipt(tenant: str, webhook_id: str, topic: str, now: datetime) -> None:
        receipt = WebhookReceipt(keys.webhook_pk(tenant, webhook_id), RECEIPT_SK, topic=topic,
                                 received_at=now.isoformat(), expires_at=int((now + RECEIPT_TTL).timestamp()))
        try:
            receipt.save()
        except PynamoDBException:
            # The work is committed; without the receipt a retry only finds everything done already.
            log.warning("could not keep the receipt of webhook %s", webhook_id, exc_info=True)


def _return(book: OrderBook, req: ReturnRequest, now: datetime) -> ReturnResult:
    try:
        return book.process_return(req, now)
    except (UserError, UserErrors) as e:
        raise shopify.in_payload_terms(e, shopify.REFUND_FIELDS) from e


def _order_body(r: OrderResult) -> dict[str, Any]:
    return {"outcome": r.outcome.value, "orderId": r.order_id, "memberId": r.member_id, "points": r.points}


def _unknown_order(order_id: str) -> dict[str, Any]:
    return {"outcome": IGNORED, "orderId": order_id, "reason": "no order with this id has earned points"}
