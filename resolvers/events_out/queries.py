"""Events-out queries (admin): the brand's webhook endpoints and the deliveries that failed for good."""
from __future__ import annotations

import strawberry

from infra.events_out.deliveries import Deliveries
from infra.events_out.endpoints import EndpointDesk
from resolvers.context import Info
from resolvers.events_out.types import WebhookDelivery, WebhookEndpoint
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

    @strawberry.field(permission_classes=[IsAdmin], description=(
        "Admin: deliveries the retry matrix gave up on, newest first, kept 30 days; "
        "`webhookDeliveryReplay` sends one again."))
    def webhook_dead_letters(self, info: Info, first: int | None = None,
                             after: str | None = None) -> Connection[WebhookDelivery]:
        return connection(info, first, after, Deliveries(info.context.require_tenant()).dead_letters,
                          WebhookDelivery.of)
