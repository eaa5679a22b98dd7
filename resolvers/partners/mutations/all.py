"""All partner mutations as one type for the schema."""
import strawberry

from resolvers.partners.mutations import partner_consent_grant as grant_m
from resolvers.partners.mutations import partner_consent_revoke as revoke_m
from resolvers.partners.mutations import partner_register as register_m
from resolvers.partners.mutations import partner_reinstate as reinstate_m
from resolvers.partners.mutations import partner_suspend as suspend_m


@strawberry.type
class PartnerMutations:
    partner_register = register_m.field
    partner_suspend = suspend_m.field
    partner_reinstate = reinstate_m.field
    partner_consent_grant = grant_m.field
    partner_consent_revoke = revoke_m.field
