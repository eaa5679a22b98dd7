"""What staff see of a webhook delivery that was kept as a failure."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.access import Role
from infra import keys
from infra.dynamo_errors import call
from infra.webhooks import Failure, WebhookFailure as FailureItem, to_failure
from resolvers.nodes import Node, node_type
from resolvers.points.types import sorted_key_ok


@strawberry.type(description="One reason a delivery could not be applied. An embedded value of its parent: it has "
                             "no id and is always answered whole with the parent.")
class WebhookFailureError:
    code: str = strawberry.field(description="An ErrorCode value.")
    field: str | None = strawberry.field(description="The payload field or header at fault, in the sender's terms.")
    message: str


def _load(info: Any, key: str) -> "WebhookFailure | None":
    pk = keys.webhook_failures_pk(info.context.require_tenant())

    def get() -> FailureItem | None:
        try:
            return FailureItem.get(pk, key, consistent_read=True)
        except FailureItem.DoesNotExist:
            return None

    item = call(get, what="webhook failure")
    return WebhookFailure.of(to_failure(item)) if item is not None else None


@node_type(load=_load, may_ask=lambda info, key: info.context.principal.is_staff(Role.ADMIN), valid_key=sorted_key_ok)
@strawberry.type(description="A signed webhook delivery that could not be applied; answered REJECTED, kept 30 days.")
class WebhookFailure(Node):
    failure_id: strawberry.ID = strawberry.field(description="The `failureId` the REJECTED answer gave the sender.")
    received_at: datetime
    topic: str
    webhook_id: str | None = strawberry.field(description="X-Shopify-Webhook-Id, when it was a valid id.")
    errors: list[WebhookFailureError]
    body: str = strawberry.field(description="The start of the raw body (at most 8 KiB).")
    body_bytes: int = strawberry.field(description="The size of the whole body.")
    truncated: bool = strawberry.field(description="True when `body` is not the whole body.")
    correlation_id: str | None

    def node_key(self) -> str:
        return str(self.failure_id)

    @classmethod
    def of(cls, f: Failure) -> "WebhookFailure":
        return cls(failure_id=strawberry.ID(f.id), received_at=datetime.fromisoformat(f.received_at), topic=f.topic,
                   webhook_id=f.webhook_id,
                   errors=[WebhookFailureError(code=e.code, field=e.field, message=e.message) for e in f.errors],
                   body=f.body, body_bytes=f.body_bytes, truncated=f.truncated, correlation_id=f.correlation_id)
