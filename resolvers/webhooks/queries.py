"""Webhook queries: the deliveries that were signed but could not be applied (admin)."""
from __future__ import annotations

import strawberry

from infra.webhooks import WebhookFailures
from resolvers.context import Info
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsAdmin
from resolvers.webhooks.types import WebhookFailure


@strawberry.type
class WebhookQueries:
    @strawberry.field(permission_classes=[IsAdmin],
                      description="Admin: signed webhook deliveries that could not be applied, newest first.")
    def webhook_failures(self, info: Info, first: int | None = None,
                         after: str | None = None) -> Connection[WebhookFailure]:
        return connection(info, first, after, WebhookFailures(info.context.require_tenant()).list, WebhookFailure.of)
