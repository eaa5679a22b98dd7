"""webhookEndpointRotateSecret (admin): a new signing secret; the previous one keeps signing for an overlap."""
from __future__ import annotations

import strawberry

from domain.events_out.endpoints import ROTATION_OVERLAP
from infra.events_out.endpoints import EndpointDesk
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.events_out.mutations.payload import WebhookEndpointPayload
from resolvers.events_out.types import WebhookEndpoint
from resolvers.nodes import key_for
from resolvers.permissions import IsAdmin


@payload_errors(WebhookEndpointPayload)
def webhook_endpoint_rotate_secret(info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
    ctx = info.context
    endpoint_id = key_for(str(id), "WebhookEndpoint", "id")
    rotated, secret = EndpointDesk(ctx.require_tenant()).rotate_secret(endpoint_id, ctx.actor, ctx.now())
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(rotated, ctx.now()), secret=secret)


field = strawberry.mutation(
    resolver=webhook_endpoint_rotate_secret, permission_classes=[IsAdmin],
    description=f"Admin: a new signing secret for an endpoint, shown once. Deliveries carry signatures by both the new "
                f"and the previous secret for {int(ROTATION_OVERLAP.total_seconds() // 3600)} hours, so the receiver "
                f"can switch without losing any. Audited (never the secret).")
