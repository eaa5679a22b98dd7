"""What staff see of webhook endpoints (never their secrets: a secret is shown once, when it is made) and of
deliveries (never their payloads)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.access import Role
from domain.events_out.deliveries import DeliveryStatus
from domain.events_out.endpoints import Endpoint
from infra.events_out import endpoints as ep
from infra.events_out.deliveries import Deliveries, Delivery
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


WebhookDeliveryStatus = strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus",
                                        description="Where a webhook delivery stands.")


def _load_delivery(info: Any, key: str) -> "WebhookDelivery | None":
    found = Deliveries(info.context.require_tenant()).get(key)
    return WebhookDelivery.of(found) if found else None


@node_type(load=_load_delivery, may_ask=lambda info, key: info.context.principal.is_staff(Role.ADMIN),
           valid_key=plain_key)
@strawberry.type(description="One event's delivery to one endpoint: its attempts and the receiver's last answer "
                             "(never the payload).")
class WebhookDelivery(Node):
    event_id: strawberry.ID = strawberry.field(description="The event's id: `webhook-id`, the same on every attempt.")
    event_type: str
    endpoint_id: strawberry.ID
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Attempts since it was made (or last replayed).")
    last_status: int | None = strawberry.field(description="The receiver's HTTP status at the last attempt.")
    last_error: str | None = strawberry.field(description="Why the last attempt got no answer (timeout, refused, "
                                                          "the destination check, ...).")
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    dead_at: datetime | None
    replays: int
    created_at: datetime

    def node_key(self) -> str:
        return f"{self.event_id}:{self.endpoint_id}"

    @classmethod
    def of(cls, d: Delivery) -> "WebhookDelivery":
        def at(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None
        return cls(event_id=strawberry.ID(d.event_id), event_type=d.event_type, endpoint_id=strawberry.ID(d.endpoint_id),
                   status=d.status, attempts=d.attempts, last_status=d.last_status,
                   last_error=d.last_error, next_attempt_at=at(d.next_attempt_at), last_attempt_at=at(d.last_attempt_at),
                   delivered_at=at(d.delivered_at), dead_at=at(d.dead_at), replays=d.replays,
                   created_at=datetime.fromisoformat(d.created_at))
