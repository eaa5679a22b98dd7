"""All lifecycle mutations as one type for the schema."""
import strawberry

from resolvers.lifecycle.mutations import lifecycle_settings_set as settings_m


@strawberry.type
class LifecycleMutations:
    lifecycle_settings_set = settings_m.field
