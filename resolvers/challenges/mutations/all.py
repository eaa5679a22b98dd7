"""All challenge mutations as one type for the schema."""
import strawberry

from resolvers.challenges.mutations import challenge_join as join_m
from resolvers.challenges.mutations import challenge_save as save_m


@strawberry.type
class ChallengeMutations:
    challenge_save = save_m.field
    challenge_join = join_m.field
