"""webhookEndpointDelete (admin): stop sending to an endpoint."""
from __future__ import annotations

import strawberry

from infra.events_out.endpoints import EndpointDesk
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.events_out.mutations.payload import WebhookEndpointPayload
from resolvers.events_out.types import WebhookEndpoint
from resolvers.nodes import key_for
from resolvers.permissions import IsAdmin


@payload_errors(WebhookEndpointPayload)
def webhook_endpoint_delete(info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
    ctx = info.context
    endpoint_id = key_for(str(id), "WebhookEndpoint", "id")
    deleted = EndpointDesk(ctx.require_tenant()).delete(endpoint_id, ctx.actor, ctx.now())
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(deleted, ctx.now()))


field = strawberry.mutation(resolver=webhook_endpoint_delete, permission_classes=[IsAdmin],
                            description="Admin: delete a webhook endpoint; the answer shows it as it was. Audited.")
