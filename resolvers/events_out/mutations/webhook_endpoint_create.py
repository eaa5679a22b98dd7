"""webhookEndpointCreate (admin): a new endpoint and its first signing secret, shown once."""
from __future__ import annotations

import strawberry

from domain import bounds
from domain.errors import UserError, UserErrors
from infra.events_out import destinations
from domain.events_out.endpoints import check_event_types
from infra.events_out.endpoints import EndpointDesk
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.events_out.mutations.payload import WebhookEndpointPayload
from resolvers.events_out.types import WebhookEndpoint
from resolvers.permissions import IsAdmin
from resolvers.scalars import bounded


@strawberry.input(description="A webhook endpoint to add.")
class WebhookEndpointInput:
    url: str = bounded(bounds.ENDPOINT_URL, description="Where events are POSTed: https, a public host.")
    event_types: list[str] | None = bounded(bounds.EVENT_TYPE, default=None, description=(
        "At most 50; null or empty: every published type."))
    enabled: bool = True
    description: str | None = bounded(bounds.TEXT, default=None)


@payload_errors(WebhookEndpointPayload)
def webhook_endpoint_create(info: Info, input: WebhookEndpointInput) -> WebhookEndpointPayload:
    ctx = info.context
    errors: list[UserError] = []
    url = input.url
    try:
        # Checked here and again at every send: a name may resolve elsewhere later (DNS rebinding).
        url = destinations.check_destination(input.url, resolve=ctx.services.resolve_host,
                                             allow_loopback=ctx.services.settings.dev)
    except UserError as e:
        errors.append(e)
    types: tuple[str, ...] = ()
    try:
        types = check_event_types(input.event_types)
    except UserError as e:
        errors.append(e)
    if errors:
        raise UserErrors(errors)
    made, secret = EndpointDesk(ctx.require_tenant()).create(url, types, input.enabled, input.description or None,
                                                              ctx.actor, ctx.now())
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(made, ctx.now()), secret=secret)


field = strawberry.mutation(resolver=webhook_endpoint_create, permission_classes=[IsAdmin],
                            description="Admin: add a webhook endpoint. The answer carries its signing secret, once. "
                                        "Audited (never the secret).")
