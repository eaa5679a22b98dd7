"""webhookDeliveryReplay (admin): a dead letter sent again, its attempts counted afresh."""
from __future__ import annotations

import strawberry

from infra.events_out.deliveries import Deliveries, to_delivery
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.events_out.types import WebhookDelivery
from resolvers.nodes import key_for
from resolvers.permissions import IsAdmin


@strawberry.type(description="The delivery as replayed: PENDING, due now.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(WebhookDeliveryPayload)
def webhook_delivery_replay(info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
    ctx = info.context
    key = key_for(str(id), "WebhookDelivery", "id")
    replayed = Deliveries(ctx.require_tenant()).replay(key, ctx.actor, ctx.now())
    return WebhookDeliveryPayload(delivery=WebhookDelivery.of(to_delivery(replayed)))


field = strawberry.mutation(resolver=webhook_delivery_replay, permission_classes=[IsAdmin], description=(
    "Admin: send a dead letter again (the `webhook-retries` job attempts it within a minute, with the endpoint's "
    "current secrets, and on the retry matrix afresh). Only a DEAD delivery; audited."))
