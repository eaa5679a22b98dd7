"""All badge mutations as one type for the schema."""
import strawberry

from resolvers.badges.mutations import badge_save as save_m


@strawberry.type
class BadgeMutations:
    badge_save = save_m.field
