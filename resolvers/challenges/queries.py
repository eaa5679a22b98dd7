"""The challenge catalog."""
from __future__ import annotations

import strawberry

from resolvers.challenges.types import Challenge, challenge_catalog
from resolvers.context import Info
from resolvers.pagination import Connection
from resolvers.permissions import CanReadCatalog


@strawberry.type
class ChallengeQueries:
    @strawberry.field(permission_classes=[CanReadCatalog],
                      description="Challenges running or still to come, ending soonest first, with `myProgress` for a "
                                  "signed-in member. Readable as `programSummary` is.")
    def challenges(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Challenge] | None:
        return challenge_catalog(info, first, after)
