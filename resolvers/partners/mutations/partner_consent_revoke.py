"""partnerConsentRevoke (member): the partner's next look-up gets nothing, and the linked id is dead."""
from __future__ import annotations

import strawberry

from infra.partners.consents import Consents
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.nodes import key_for
from resolvers.partners.mutations.payloads import PartnerConsentPayload
from resolvers.partners.types import PartnerConsent
from resolvers.permissions import IsMember


@payload_errors(PartnerConsentPayload)
def partner_consent_revoke(info: Info, partner_id: strawberry.ID) -> PartnerConsentPayload:
    ctx = info.context
    member_id = str(ctx.principal.member_id)
    key = key_for(str(partner_id), "Partner", "partnerId")
    revoked = Consents(ctx.require_tenant()).revoke(member_id, key, ctx.actor, ctx.now())
    return PartnerConsentPayload(consent=PartnerConsent.of(member_id, revoked))


field = strawberry.mutation(resolver=partner_consent_revoke, permission_classes=[IsMember], description=(
    "Member: withdraw a consent. The partner's next look-up is answered null, and the linked id stops naming you. "
    "Audited."))
