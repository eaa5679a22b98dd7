"""Webhook deliveries as stored: one item per event and endpoint, `T#<tenant>#WHDLV#<event>` / `EP#<endpoint>`,
holding the envelope to send, its attempts and its state (domain/events_out/deliveries.py).

- Created with `attribute_not_exists` before the first attempt: a stream batch handled again finds the
  item and sends nothing twice; the item's own state says what is left to do.
- Due for an attempt: GSI2 `T#t#DUE#WEBHOOK` / `<nextAttemptAt>#<event>#<endpoint>` (the `webhook-retries`
  job reads it; never a Scan). Written due at once, so a processor stopped between the put and the send
  leaves a delivery the job sends.
- Dead letters: GSI1 `T#t#WHDEAD` / `<deadAt>#<event>#<endpoint>`, the staff list; a replay takes it off.
- Every attempt's record is conditioned on the attempt count read, so two senders at once (the job and a
  replay) record one outcome each, never one over the other.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from domain.errors import ErrorCode, UserError
from domain.events_out import retries
from domain.events_out.deliveries import (ENDPOINT_DISABLED, KEEP_CANCELLED, KEEP_DEAD, KEEP_DELIVERED,
                                          DeliveryStatus)
from domain.events_out.endpoints import Endpoint
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call, conditional
from infra.events_out.outlet import Outlet
from infra.events_out.sender import Answer, send_event
from infra.items.base import TableItem
from infra.pages import Page, page, start_key
from infra.transaction import Transaction, TransactionCancelled

log = logging.getLogger("kizuna.events_out")

DUE_JOB = "WEBHOOK"  # GSI2 `T#t#DUE#WEBHOOK`
ENDPOINT_PREFIX = "EP#"


def deliveries_pk(tenant: str, event_id: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#WHDLV#{event_id}"


def dead_letters_pk(tenant: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#WHDEAD"


class WebhookDeliveryItem(TableItem, discriminator="webhook-delivery"):
    tenant = UnicodeAttribute()
    event_id = UnicodeAttribute(attr_name="eventId")
    event_type = UnicodeAttribute(attr_name="eventType")  # the public name
    endpoint_id = UnicodeAttribute(attr_name="endpointId")
    member_id = UnicodeAttribute(attr_name="memberId")
    envelope = JSONAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    last_status = NumberAttribute(null=True, attr_name="lastStatus")  # the receiver's HTTP status
    last_error = UnicodeAttribute(null=True, attr_name="lastError")  # no answer: why (never a body)
    next_attempt_at = UnicodeAttribute(null=True, attr_name="nextAttemptAt")
    last_attempt_at = UnicodeAttribute(null=True, attr_name="lastAttemptAt")
    delivered_at = UnicodeAttribute(null=True, attr_name="deliveredAt")
    dead_at = UnicodeAttribute(null=True, attr_name="deadAt")
    replays = NumberAttribute(default=0)
    created_at = UnicodeAttribute(attr_name="createdAt")


@dataclass(frozen=True)
class Delivery:
    tenant: str
    event_id: str
    event_type: str
    endpoint_id: str
    member_id: str
    status: DeliveryStatus
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None
    dead_at: str | None
    replays: int
    created_at: str


def to_delivery(item: WebhookDeliveryItem) -> Delivery:
    return Delivery(item.tenant, item.event_id, item.event_type, item.endpoint_id, item.member_id,
                    DeliveryStatus(item.status), int(item.attempts or 0),
                    int(item.last_status) if item.last_status is not None else None, item.last_error,
                    item.next_attempt_at, item.last_attempt_at, item.delivered_at, item.dead_at,
                    int(item.replays or 0), item.created_at)


def _place(at: str, item: WebhookDeliveryItem) -> str:
    return f"{at}#{item.event_id}#{item.endpoint_id}"


def parse_key(key: str) -> tuple[str, str] | None:
    event_id, sep, endpoint_id = key.partition(":")
    return (event_id, endpoint_id) if sep and event_id and endpoint_id else None


class Deliveries:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def item(self, event_id: str, endpoint_id: str) -> WebhookDeliveryItem | None:
        try:
            return call(lambda: WebhookDeliveryItem.get(deliveries_pk(self.tenant, event_id),
                                                        ENDPOINT_PREFIX + endpoint_id, consistent_read=True),
                        what="webhook delivery")
        except WebhookDeliveryItem.DoesNotExist:
            return None

    def get(self, key: str) -> Delivery | None:
        parts = parse_key(key)
        item = self.item(*parts) if parts else None
        return to_delivery(item) if item else None

    def of_event(self, event_id: str) -> list[Delivery]:
        items = call(lambda: list(WebhookDeliveryItem.query(deliveries_pk(self.tenant, event_id),
                                                            consistent_read=True)), what="webhook deliveries")
        return [to_delivery(i) for i in items]

    # -- the first attempt, from the processor ------------------------------------------------------
    def start(self, endpoint: Endpoint, envelope: dict[str, Any], now: datetime) -> WebhookDeliveryItem | None:
        """The delivery of `envelope` to `endpoint`, written due now; None when it exists already (the
        event was handled before: its own state says what is left)."""
        at = now.isoformat()
        item = WebhookDeliveryItem(deliveries_pk(self.tenant, envelope["id"]), ENDPOINT_PREFIX + endpoint.id,
                                   tenant=self.tenant, event_id=envelope["id"], event_type=envelope["type"],
                                   endpoint_id=endpoint.id, member_id=envelope.get("memberId") or "",
                                   envelope=envelope, status=DeliveryStatus.PENDING.value, attempts=0,
                                   next_attempt_at=at, created_at=at)
        item.GSI2PK, item.GSI2SK = keys.due_pk(self.tenant, DUE_JOB), _place(at, item)
        if not conditional(lambda: item.save(WebhookDeliveryItem.PK.does_not_exist()), what="webhook delivery"):
            return None
        return item

    # -- an attempt and its record --------------------------------------------------------------------
    def attempt(self, item: WebhookDeliveryItem, endpoint: Endpoint | None, outlet: Outlet,
                now: datetime) -> Delivery | None:
        """Send once (unless the endpoint is gone or off) and record what follows by the retry matrix.
        None: another sender recorded an attempt of this delivery meanwhile (its record stands)."""
        if endpoint is None:
            return self._record(item, now, status=DeliveryStatus.CANCELLED, answer=None,
                                error="endpoint deleted")
        if not endpoint.enabled:
            return self._record(item, now, status=DeliveryStatus.DEAD, answer=None, error=ENDPOINT_DISABLED,
                                outlet=outlet)
        answer = send_event(endpoint, item.envelope, now, allow_loopback=outlet.allow_loopback,
                            resolve=outlet.resolve)
        if answer.status is not None and 200 <= answer.status < 300:
            outlet.release(endpoint.id)
        else:
            outlet.hold(endpoint.id)
        step = retries.after_attempt(int(item.attempts or 0) + 1, answer.status, answer.retry_after)
        status = {retries.Next.DELIVERED: DeliveryStatus.DELIVERED, retries.Next.RETRY: DeliveryStatus.PENDING,
                  retries.Next.DEAD_LETTER: DeliveryStatus.DEAD}[step.next]
        return self._record(item, now, status=status, answer=answer, error=answer.error,
                            delay_seconds=step.delay_seconds, outlet=outlet)

    def _record(self, item: WebhookDeliveryItem, now: datetime, *, status: DeliveryStatus, answer: Answer | None,
                error: str | None, delay_seconds: int = 0, outlet: Outlet | None = None) -> Delivery | None:
        read = int(item.attempts or 0)
        sent = answer is not None
        at = now.isoformat()
        I = WebhookDeliveryItem
        actions = [I.status.set(status.value), I.last_error.set(error) if error else I.last_error.remove()]
        if sent:
            actions += [I.attempts.set(read + 1), I.last_attempt_at.set(at)]
            actions.append(I.last_status.set(answer.status) if answer.status is not None else I.last_status.remove())
        if status is DeliveryStatus.PENDING:
            next_at = (now + timedelta(seconds=delay_seconds)).isoformat()
            actions += [I.next_attempt_at.set(next_at), I.GSI2PK.set(keys.due_pk(self.tenant, DUE_JOB)),
                        I.GSI2SK.set(_place(next_at, item))]
        else:
            actions += [I.next_attempt_at.remove(), I.GSI2PK.remove(), I.GSI2SK.remove()]
            keep = {DeliveryStatus.DELIVERED: KEEP_DELIVERED, DeliveryStatus.DEAD: KEEP_DEAD,
                    DeliveryStatus.CANCELLED: KEEP_CANCELLED}[status]
            actions.append(I.expires_at.set(int((now + keep).timestamp())))
        if status is DeliveryStatus.DELIVERED:
            actions.append(I.delivered_at.set(at))
        if status is DeliveryStatus.DEAD:
            actions += [I.dead_at.set(at), I.GSI1PK.set(dead_letters_pk(self.tenant)),
                        I.GSI1SK.set(_place(at, item))]
        condition = (I.attempts == read) & (I.status == DeliveryStatus.PENDING.value)
        if not conditional(lambda: item.update(actions=actions, condition=condition), what="webhook delivery"):
            return None
        if status is DeliveryStatus.DEAD and outlet is not None and outlet.dead_letters is not None:
            # The table is the record; the queue is the alarm. A queue fault is logged, not retried: the
            # delivery is on the staff list either way.
            try:
                outlet.dead_letters.tell({"tenant": self.tenant, "eventId": item.event_id,
                                          "eventType": item.event_type, "endpointId": item.endpoint_id,
                                          "attempts": int(item.attempts or 0), "lastStatus": item.last_status,
                                          "lastError": item.last_error, "deadAt": at})
            except Exception as e:  # noqa: BLE001 - see above
                log.error("dead-letter notice for %s/%s not sent: %s", item.event_id, item.endpoint_id,
                          type(e).__name__)
        return to_delivery(item)

    # -- staff: the dead letters and replay -----------------------------------------------------------
    def dead_letters(self, first: int, after: dict | None) -> Page:
        """Newest first: what failed last is what staff look at first."""
        pk = dead_letters_pk(self.tenant)
        start = start_key(after, pk, "GSI1PK")
        return call(lambda: page(WebhookDeliveryItem.lookup.query(pk, None, limit=first + 1, last_evaluated_key=start,
                                                                 scan_index_forward=False),
                                 to_delivery, ("PK", "SK", "GSI1PK", "GSI1SK"), first), what="webhook dead letters")

    def replay(self, key: str, actor: str, now: datetime) -> WebhookDeliveryItem:
        """A dead letter back to PENDING, due now, its attempts counted afresh; audited."""
        parts = parse_key(key)
        item = self.item(*parts) if parts else None
        if item is None:
            raise UserError(ErrorCode.NOT_FOUND, "There is no such webhook delivery.", "id")
        if item.status != DeliveryStatus.DEAD.value:
            raise UserError(ErrorCode.INVALID_STATE, f"Only a dead letter is replayed; this delivery is "
                                                     f"{item.status}.", "id")
        at = now.isoformat()
        I = WebhookDeliveryItem
        tx = Transaction()
        tx.update("delivery", item, [
            I.status.set(DeliveryStatus.PENDING.value), I.attempts.set(0), I.replays.add(1),
            I.next_attempt_at.set(at), I.GSI2PK.set(keys.due_pk(self.tenant, DUE_JOB)), I.GSI2SK.set(_place(at, item)),
            I.GSI1PK.remove(), I.GSI1SK.remove(), I.dead_at.remove(), I.expires_at.remove()],
            (I.status == DeliveryStatus.DEAD.value) & (I.dead_at == item.dead_at))
        tx.put("audit", audit_entry(self.tenant, actor, "webhook_delivery.replay", now, detail={
            "eventId": item.event_id, "endpointId": item.endpoint_id, "eventType": item.event_type}))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "The delivery was replayed meanwhile.", "id") from None
        fresh = self.item(item.event_id, item.endpoint_id)
        assert fresh is not None
        return fresh

