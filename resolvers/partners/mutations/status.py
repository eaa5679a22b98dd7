"""What suspending and reinstating a partner share: the partner named by either id, its status set, audited."""
from __future__ import annotations

import strawberry

from domain.partners.registry import PartnerStatus
from infra.partners.registry import PartnerRegistry
from resolvers.context import Info
from resolvers.nodes import key_for
from resolvers.partners.mutations.payloads import PartnerPayload
from resolvers.partners.types import Partner


def set_status(info: Info, id: strawberry.ID, status: PartnerStatus) -> PartnerPayload:
    ctx = info.context
    partner_id = key_for(str(id), "Partner", "id")
    changed = PartnerRegistry(ctx.require_tenant()).set_status(partner_id, status, ctx.actor, ctx.now())
    return PartnerPayload(partner=Partner.of(changed))
