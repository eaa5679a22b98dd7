"""partnerReinstate (admin): answer a suspended partner's look-ups again."""
from __future__ import annotations

import strawberry

from domain.partners.registry import PartnerStatus
from infra.partners.registry import PartnerRegistry
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.nodes import key_for
from resolvers.partners.mutations.payloads import PartnerPayload
from resolvers.partners.types import Partner
from resolvers.permissions import IsAdmin


@payload_errors(PartnerPayload)
def partner_reinstate(info: Info, id: strawberry.ID) -> PartnerPayload:
    ctx = info.context
    partner_id = key_for(str(id), "Partner", "id")
    changed = PartnerRegistry(ctx.require_tenant()).set_status(partner_id, PartnerStatus.ACTIVE, ctx.actor, ctx.now())
    return PartnerPayload(partner=Partner.of(changed))


field = strawberry.mutation(resolver=partner_reinstate, permission_classes=[IsAdmin],
                            description="Admin: answer a suspended partner's look-ups again. Audited.")
