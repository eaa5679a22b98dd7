"""All tier mutations as one type for the schema."""
import strawberry

from resolvers.tiers.mutations import member_tier_set as member_m
from resolvers.tiers.mutations import tier_ladder_set as ladder_m


@strawberry.type
class TierMutations:
    tier_ladder_set = ladder_m.field
    member_tier_set = member_m.set_field
    member_tier_clear = member_m.clear_field
