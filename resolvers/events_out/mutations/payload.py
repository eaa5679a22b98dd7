"""The payload every webhook endpoint change answers with."""
from __future__ import annotations

import strawberry

from resolvers.errors import UserErrorType
from resolvers.events_out.types import WebhookEndpoint


@strawberry.type(description="The endpoint as changed; `secret` only when this change made a new one.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(default=None, description=(
        "The new signing secret (`whsec_...`), shown this once: store it in the receiver, which verifies "
        "each delivery with it."))
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)
