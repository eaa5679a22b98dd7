"""Events-out queries: the brand's webhook endpoints (admin)."""
from __future__ import annotations

import strawberry

from infra.events_out.endpoints import EndpointDesk
from resolvers.context import Info
from resolvers.events_out.types import WebhookEndpoint
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsAdmin


@strawberry.type
class EventsOutQueries:
    @strawberry.field(permission_classes=[IsAdmin], description="Admin: the webhook endpoints events are sent to.")
    def webhook_endpoints(self, info: Info, first: int | None = None,
                          after: str | None = None) -> Connection[WebhookEndpoint]:
        now = info.context.now()
        return connection(info, first, after, EndpointDesk(info.context.require_tenant()).list,
                          lambda e: WebhookEndpoint.of(e, now))
