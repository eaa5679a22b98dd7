"""Shopify-shaped order webhooks: check the tenant and the HMAC, drop repeats, record what the order system says.

Shopify retries every non-2xx answer for 48 hours, so a signed delivery is answered by what a retry
would change: 200 when it was applied, a repeat or ignored; 200 REJECTED, with the delivery kept as
a failure record for staff, when its content can never be applied (a retry would fail the same way);
503 with Retry-After when DynamoDB could not do it now (a retry will); 500 only for our own faults.
Unsigned requests are not ours to keep: 401."""
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
from domain.points.orders import ReturnRefused, ReturnRequest, validate_order
from infra import keys
from infra.dynamo_errors import RetryLater, call
from infra.points.items import WebhookReceipt
from infra.points.orders import OrderBook, OrderOutcome, OrderResult, ReturnResult
from infra.points.program_store import ProgramCache, ProgramStore
from infra.webhooks import WebhookFailures

log = logging.getLogger("kizuna.webhooks")

PREFIX = "/webhooks/shopify/"
RECEIPT_SK = "RECEIPT"
# Shopify retries a failed delivery for up to 48 hours; a week of receipts covers every retry.
RECEIPT_TTL = timedelta(days=7)
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

# Outcomes beyond OrderOutcome's: a refund that took points back, and a webhook that changes nothing.
REVERSED = "REVERSED"
IGNORED = "IGNORED"
REJECTED = "REJECTED"
DUPLICATE = OrderOutcome.DUPLICATE.value


def signature(secret: str, body: bytes) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(secret: str, body: bytes, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), given.strip().encode("utf-8", "replace"))


def _error_list(errors: list[UserError]) -> list[dict[str, Any]]:
    return [{"code": e.code.value, "field": e.field, "message": e.message} for e in errors]


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
        # Signed: from here on the delivery is ours to answer by what a retry would change.
        raw_topic = (req.headers.get("x-shopify-topic") or "").strip()
        webhook_id = (req.headers.get("x-shopify-webhook-id") or "").strip() or None
        try:
            return self._signed(req, cid, tenant, raw_topic, webhook_id)
        except RetryLater as e:
            log.warning("webhook deferred code=RETRY_LATER topic=%r correlation_id=%s: %s", raw_topic[:64], cid, e,
                        extra={"correlation_id": cid, "tenant": tenant, "topic": raw_topic, "webhook_id": webhook_id})
            resp = error_response(503, "RETRY_LATER", "Could not finish this delivery now; send it again "
                                                      "(nothing is applied twice).", cid)
            resp.headers["retry-after"] = str(e.retry_after)
            return resp
        except Exception:
            log.exception("webhook unexpected error code=INTERNAL topic=%r correlation_id=%s", raw_topic[:64], cid,
                          extra={"correlation_id": cid, "tenant": tenant, "topic": raw_topic, "webhook_id": webhook_id})
            return error_response(500, "INTERNAL", f"Unexpected error (correlation id {cid}).", cid)

    def _signed(self, req: Request, cid: str, tenant: str, raw_topic: str, webhook_id: str | None) -> Response:
        now = self.clock()
        problems = []
        if not raw_topic:
            problems.append(UserError(ErrorCode.REQUIRED, "X-Shopify-Topic is required.", "X-Shopify-Topic"))
        if webhook_id is not None and not _WEBHOOK_ID.match(webhook_id):
            problems.append(UserError(ErrorCode.INVALID, "X-Shopify-Webhook-Id is not a valid id.",
                                      "X-Shopify-Webhook-Id"))
            webhook_id = None
        if problems:
            return self._reject(tenant, raw_topic, webhook_id, problems, req.body, now, cid)
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
            if any(x.code is ErrorCode.CONFLICT for x in errors):
                # The balance or the order kept changing under us: the same delivery will go through.
                raise RetryLater("the member's points kept changing") from e
            return self._reject(tenant, raw_topic, webhook_id, errors, req.body, now, cid)
        if webhook_id is not None:
            self._keep_receipt(tenant, webhook_id, raw_topic, now)
        log.info("webhook %s: %s", raw_topic, outcome["outcome"], extra={"correlation_id": cid, "tenant": tenant})
        return json_response(200, outcome, cid)

    @staticmethod
    def _reject(tenant: str, topic: str, webhook_id: str | None, errors: list[UserError], body: bytes,
                now: datetime, cid: str) -> Response:
        """A signed delivery that can never be applied: kept as a failure record, and answered 2xx so
        the sender stops. No receipt is kept, so a redelivery after the cause is fixed is processed."""
        failure_id = WebhookFailures(tenant).keep(topic=topic or "(none)", webhook_id=webhook_id, errors=errors,
                                                  body=body, now=now, correlation_id=cid)
        log.info("webhook rejected: %s", [x.code.value for x in errors],
                 extra={"correlation_id": cid, "tenant": tenant, "topic": topic, "failure_id": failure_id})
        return json_response(200, {"outcome": REJECTED, "failureId": failure_id, "errors": _error_list(errors)}, cid)

    # -- what each kind of webhook does ---------------------------------------------------------
    def _apply(self, book: OrderBook, parsed: shopify.Parsed, now: datetime) -> dict[str, Any]:
        if isinstance(parsed, shopify.Ignored):
            return {"outcome": IGNORED, "reason": parsed.reason}
        if isinstance(parsed, shopify.OrderEvent):
            # Refunds listed with the order must fit its lines together, or nothing of it is applied.
            over = book.check_listed_returns(parsed.order, parsed.refunds) if parsed.refunds else []
            if over:
                problems = [UserError(e.code, e.message, parsed.refund_field(i, e.field)) for i, e in over]
                try:  # and whatever is wrong with the order itself, all at once
                    validate_order(parsed.order, book.programs.program())
                except (UserError, UserErrors) as e:
                    problems = shopify.in_payload_terms(e, shopify.ORDER_FIELDS).errors + problems
                raise UserErrors(problems)
            try:
                result = book.record(parsed.order, now)
            except (UserError, UserErrors) as e:
                raise shopify.in_payload_terms(e, shopify.ORDER_FIELDS) from e
            body = _order_body(result)
            if parsed.refunds and result.outcome is not OrderOutcome.NO_CUSTOMER:
                # Refunds made before this webhook arrived: each is taken back once, by its id. One that
                # does not fit what other returns left of the order is refused; the others still apply.
                body["pointsReversed"], refused = 0, []
                for i, r in enumerate(parsed.refunds):
                    try:
                        body["pointsReversed"] += _return(book, r, now).points_reversed
                    except ReturnRefused as e:
                        refused += [UserError(x.code, x.message, parsed.refund_field(i, x.field)) for x in e.errors]
                if refused:
                    raise UserErrors(refused)
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
        try:
            r = _return(book, req, now)
        except ReturnRefused as e:  # can never apply: answered REJECTED and kept, in the payload's terms
            raise shopify.in_payload_terms(e, shopify.REFUND_FIELDS) from e
        outcome = DUPLICATE if r.duplicate else REVERSED if r.member_id else OrderOutcome.HELD_FOR_ENROLLMENT.value
        return {"outcome": outcome, "orderId": r.order_id, "memberId": r.member_id or None,
                "points": r.points_reversed, "refundId": req.return_id}

    # -- receipts ----------------------------------------------------------------------------------
    @staticmethod
    def _received(tenant: str, webhook_id: str, now: datetime) -> bool:
        try:
            receipt = call(lambda: WebhookReceipt.get(keys.webhook_pk(tenant, webhook_id), RECEIPT_SK),
                           what="webhook receipt")
        except WebhookReceipt.DoesNotExist:
            return False
        # TTL deletion lags; a receipt past its time no longer counts.
        return receipt.expires_at is None or receipt.expires_at > now.timestamp()

    @staticmethod
    def _keep_receipt(tenant: str, webhook_id: str, topic: str, now: datetime) -> None:
        receipt = WebhookReceipt(keys.webhook_pk(tenant, webhook_id), RECEIPT_SK, topic=topic,
                                 received_at=now.isoformat(), expires_at=int((now + RECEIPT_TTL).timestamp()))
        try:
            call(receipt.save, what="keep webhook receipt")
        except (PynamoDBException, RetryLater):
            # The work is committed; without the receipt a retry only finds everything done already.
            log.warning("could not keep the receipt of webhook %s", webhook_id, exc_info=True)


def _return(book: OrderBook, req: ReturnRequest, now: datetime) -> ReturnResult:
    """A refund applied; a refusal (it does not fit what is left of the order) stays a ReturnRefused,
    other problems are renamed to the payload's fields."""
    try:
        return book.process_return(req, now)
    except ReturnRefused:
        raise
    except (UserError, UserErrors) as e:
        raise shopify.in_payload_terms(e, shopify.REFUND_FIELDS) from e


def _order_body(r: OrderResult) -> dict[str, Any]:
    return {"outcome": r.outcome.value, "orderId": r.order_id, "memberId": r.member_id, "points": r.points}


def _unknown_order(order_id: str) -> dict[str, Any]:
    return {"outcome": IGNORED, "orderId": order_id, "reason": "no order with this id has earned points"}
