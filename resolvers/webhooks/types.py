"""What staff see of a webhook delivery that was kept as a failure."""
from __future__ import annotations

from datetime import datetime

import strawberry

from infra.webhooks import Failure


@strawberry.type(description="One reason a delivery could not be applied.")
class WebhookFailureError:
    code: str = strawberry.field(description="An ErrorCode value.")
    field: str | None = strawberry.field(description="The payload field or header at fault, in the sender's terms.")
    message: str


@strawberry.type(description="A signed webhook delivery that could not be applied; answered REJECTED, kept 30 days.")
class WebhookFailure:
    id: strawberry.ID
    received_at: datetime
    topic: str
    webhook_id: str | None = strawberry.field(description="X-Shopify-Webhook-Id, when it was a valid id.")
    errors: list[WebhookFailureError]
    body: str = strawberry.field(description="The start of the raw body (at most 8 KiB).")
    body_bytes: int = strawberry.field(description="The size of the whole body.")
    truncated: bool = strawberry.field(description="True when `body` is not the whole body.")
    correlation_id: str | None

    @classmethod
    def of(cls, f: Failure) -> "WebhookFailure":
        return cls(id=strawberry.ID(f.id), received_at=datetime.fromisoformat(f.received_at), topic=f.topic,
                   webhook_id=f.webhook_id,
                   errors=[WebhookFailureError(code=e.code, field=e.field, message=e.message) for e in f.errors],
                   body=f.body, body_bytes=f.body_bytes, truncated=f.truncated, correlation_id=f.correlation_id)
