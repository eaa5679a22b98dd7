"""partnerSuspend (admin): stop answering a partner's look-ups (each still counted and recorded)."""
from __future__ import annotations

import strawberry

from domain.partners.registry import PartnerStatus
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.partners.mutations.payloads import PartnerPayload
from resolvers.partners.mutations.status import set_status
from resolvers.permissions import IsAdmin


@payload_errors(PartnerPayload)
def partner_suspend(info: Info, id: strawberry.ID) -> PartnerPayload:
    return set_status(info, id, PartnerStatus.SUSPENDED)


field = strawberry.mutation(resolver=partner_suspend, permission_classes=[IsAdmin],
                            description="Admin: suspend a partner: its look-ups are answered null, as for a member who never consented. Audited.")
