"""partnerReinstate (admin): answer a suspended partner's look-ups again."""
from __future__ import annotations

import strawberry

from domain.partners.registry import PartnerStatus
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.partners.mutations.payloads import PartnerPayload
from resolvers.partners.mutations.status import set_status
from resolvers.permissions import IsAdmin


@payload_errors(PartnerPayload)
def partner_reinstate(info: Info, id: strawberry.ID) -> PartnerPayload:
    return set_status(info, id, PartnerStatus.ACTIVE)


field = strawberry.mutation(resolver=partner_reinstate, permission_classes=[IsAdmin],
                            description="Admin: answer a suspended partner's look-ups again. Audited.")
