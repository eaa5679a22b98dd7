"""partnerRegister (admin): a partner brand, the client id its tokens carry, its scopes and its rate limit."""
from __future__ import annotations

import strawberry

from domain import bounds
from domain.errors import UserErrors
from domain.partners.registry import Partner as PartnerRule
from domain.partners.registry import PartnerStatus, check_registration
from infra.partners.registry import PartnerRegistry
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.partners.mutations.payloads import PartnerPayload
from resolvers.partners.types import Partner
from resolvers.permissions import IsAdmin
from resolvers.scalars import bounded


@strawberry.input(description="A partner brand to register.")
class PartnerInput:
    id: strawberry.ID = bounded(bounds.IDENTIFIER, description="Its own id, a slug such as `acme-air`.")
    name: str = bounded(bounds.LABEL, description="Shown to members when they consent and in their look-ups.")
    client_id: str = bounded(bounds.IDENTIFIER, description=(
        "The `client_id` claim of its client-credentials tokens from the brand's identity provider (their scope "
        "must include the partner scope)."))
    scopes: list[str] | None = bounded(bounds.TEXT, default=None, description="Default and only: member-status.")
    rate_limit_per_minute: int | None = strawberry.field(default=None, description="1-6000; default 60.")


@payload_errors(PartnerPayload)
def partner_register(info: Info, input: PartnerInput) -> PartnerPayload:
    ctx = info.context
    scopes, rate, problems = check_registration(str(input.id), input.scopes, input.rate_limit_per_minute)
    if problems:
        raise UserErrors(problems)
    now = ctx.now().isoformat()
    made = PartnerRegistry(ctx.require_tenant()).register(PartnerRule(
        str(input.id), input.name, input.client_id, scopes, rate, PartnerStatus.ACTIVE, now, now), ctx.actor, ctx.now())
    return PartnerPayload(partner=Partner.of(made))


field = strawberry.mutation(resolver=partner_register, permission_classes=[IsAdmin],
                            description="Admin: register a partner brand. Audited.")
