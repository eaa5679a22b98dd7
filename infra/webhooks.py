"""Signed webhook deliveries that could not be processed, kept with their reasons for staff to see.

The sender is answered 2xx for these (a retry would fail the same way), so this record is the only
place the delivery survives: topic, webhook id, the errors, and the start of the body."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from domain.errors import UserError
from infra import keys
from infra.dynamo_errors import call
from infra.ids import new_ulid
from infra.items.base import TableItem
from infra.pages import Page, page, start_key

FAILURE_TTL = timedelta(days=30)
BODY_LIMIT_BYTES = 8 * 1024
MAX_ERRORS = 50  # keeps the item far below DynamoDB's 400 KB whatever the payload did wrong


class WebhookFailure(TableItem, discriminator="webhook-failure"):
    """`T#t#WEBHOOKFAIL` / `<receivedAt>#<ulid>`."""

    topic = UnicodeAttribute()
    webhook_id = UnicodeAttribute(null=True, attr_name="webhookId")
    errors = JSONAttribute()  # [{"code", "field", "message"}]
    body = UnicodeAttribute()  # the first BODY_LIMIT_BYTES of the raw body, as UTF-8 text
    body_bytes = NumberAttribute(attr_name="bodyBytes")  # the size of the whole body
    received_at = UnicodeAttribute(attr_name="receivedAt")
    correlation_id = UnicodeAttribute(null=True, attr_name="correlationId")
    truncated = BooleanAttribute(default=False)


@dataclass(frozen=True)
class FailureError:
    code: str
    field: str | None
    message: str


@dataclass(frozen=True)
class Failure:
    id: str
    received_at: str
    topic: str
    webhook_id: str | None
    errors: list[FailureError]
    body: str
    body_bytes: int
    truncated: bool
    correlation_id: str | None


def truncated_text(body: bytes, limit: int = BODY_LIMIT_BYTES) -> tuple[str, bool]:
    """At most `limit` bytes of UTF-8 (undecodable bytes become U+FFFD, a character cut at the end is
    dropped), and whether anything of the body was left out."""
    encoded = body[:limit].decode("utf-8", "replace").encode("utf-8")
    return encoded[:limit].decode("utf-8", "ignore"), len(body) > limit or len(encoded) > limit


def to_failure(item: WebhookFailure) -> Failure:
    return Failure(id=item.SK, received_at=item.received_at, topic=item.topic, webhook_id=item.webhook_id,
                   errors=[FailureError(e.get("code", ""), e.get("field"), e.get("message", "")) for e in item.errors],
                   body=item.body, body_bytes=int(item.body_bytes), truncated=bool(item.truncated),
                   correlation_id=item.correlation_id)


class WebhookFailures:
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.pk = keys.webhook_failures_pk(tenant)

    def keep(self, *, topic: str, webhook_id: str | None, errors: list[UserError], body: bytes, now: datetime,
             correlation_id: str | None) -> str:
        """Store one failed delivery; returns its id. Raises RetryLater when it cannot be stored now."""
        at = now.astimezone(timezone.utc)
        failure_id = f"{at.isoformat()}#{new_ulid(int(at.timestamp() * 1000))}"
        copy, truncated = truncated_text(body)
        item = WebhookFailure(
            self.pk, failure_id, topic=topic[:200], webhook_id=webhook_id,
            errors=[{"code": e.code.value, "field": e.field, "message": e.message[:500]} for e in errors[:MAX_ERRORS]],
            body=copy, body_bytes=len(body), truncated=truncated,
            received_at=at.isoformat(), correlation_id=correlation_id,
            expires_at=int((at + FAILURE_TTL).timestamp()))
        # No condition: the key is new (a ulid), and a retry after a timeout rewrites the same item.
        call(item.save, what="keep webhook failure")
        return failure_id

    def list(self, first: int, after: dict | None) -> Page:
        """Newest first."""
        start = start_key(after, self.pk)
        return call(lambda: page(WebhookFailure.query(self.pk, limit=first + 1, last_evaluated_key=start,
                                                      scan_index_forward=False, consistent_read=True),
                                 to_failure, ("PK", "SK"), first), what="webhook failures")
