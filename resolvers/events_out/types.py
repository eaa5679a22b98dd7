"""What staff see of a webhook endpoint: never its secrets (a secret is shown once, when it is made)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.access import Role
from domain.events_out.endpoints import Endpoint
from infra.events_out import endpoints as ep
from resolvers.nodes import Node, node_type, plain_key


def _load(info: Any, key: str) -> "WebhookEndpoint | None":
    found = ep.Endpoints(info.context.require_tenant()).get(key)
    return WebhookEndpoint.of(found, info.context.now()) if found else None


@node_type(load=_load, may_ask=lambda info, key: info.context.principal.is_staff(Role.ADMIN), valid_key=plain_key)
@strawberry.type(description="One of the brand's webhook endpoints: where events are sent, signed (Standard "
                             "Webhooks).")
class WebhookEndpoint(Node):
    endpoint_id: strawberry.ID
    url: str
    event_types: list[str] = strawberry.field(description="The public event types sent here; `[\"*\"]`: all of them.")
    enabled: bool
    description: str | None
    created_at: datetime
    updated_at: datetime
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation: until when deliveries are also signed with the previous secret.")

    def node_key(self) -> str:
        return str(self.endpoint_id)

    @classmethod
    def of(cls, e: Endpoint, now: datetime) -> "WebhookEndpoint":
        overlap = [datetime.fromisoformat(s["until"]) for s in e.secrets
                   if s.get("until") and datetime.fromisoformat(s["until"]) > now]
        return cls(endpoint_id=strawberry.ID(e.id), url=e.url, event_types=list(e.event_types), enabled=e.enabled,
                   description=e.description, created_at=datetime.fromisoformat(e.created_at),
                   updated_at=datetime.fromisoformat(e.updated_at),
                   previous_secret_valid_until=max(overlap) if overlap else None)
