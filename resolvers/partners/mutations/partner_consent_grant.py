"""partnerConsentGrant (member): share tier, status and/or memberSince with one partner, for one purpose."""
from __future__ import annotations

from typing import Annotated

import strawberry

from domain import bounds
from domain.errors import ErrorCode, UserError, UserErrors
from domain.partners.consent import check_fields
from infra.partners.consents import Consents
from infra.partners.registry import PartnerRegistry
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.nodes import key_for
from resolvers.partners.mutations.payloads import PartnerConsentPayload
from resolvers.partners.types import PartnerConsent, PartnerPurpose
from resolvers.permissions import IsMember
from resolvers.scalars import bounded_arg

FieldsArg = Annotated[list[str], bounded_arg(bounds.TEXT, description="Of tier, status and memberSince.")]


@payload_errors(PartnerConsentPayload)
def partner_consent_grant(info: Info, partner_id: strawberry.ID, purpose: PartnerPurpose,
                          fields: FieldsArg) -> PartnerConsentPayload:
    ctx = info.context
    member_id = str(ctx.principal.member_id)
    key = key_for(str(partner_id), "Partner", "partnerId")
    checked, problems = check_fields(fields)
    partner = PartnerRegistry(ctx.require_tenant()).get(key)
    if partner is None or not partner.active:
        problems.append(UserError(ErrorCode.NOT_FOUND, "There is no such partner.", "partnerId"))
    if problems:
        raise UserErrors(problems)
    assert partner is not None
    made = Consents(ctx.require_tenant()).grant(member_id, partner, purpose, checked, ctx.actor, ctx.now())
    return PartnerConsentPayload(consent=PartnerConsent.of(member_id, made))


field = strawberry.mutation(resolver=partner_consent_grant, permission_classes=[IsMember], description=(
    "Member: let a partner brand ask your tier, status or member-since day, for one purpose. The answer's "
    "`linkedId` is what you give the partner; it can also find you by your verified email's hash. Audited; "
    "granting again changes the fields and keeps the linked id."))
