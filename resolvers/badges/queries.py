"""The badge catalog."""
from __future__ import annotations

import strawberry

from resolvers.badges.types import Badge, badge_catalog
from resolvers.context import Info
from resolvers.pagination import Connection
from resolvers.permissions import CanReadCatalog


@strawberry.type
class BadgeQueries:
    @strawberry.field(permission_classes=[CanReadCatalog],
                      description="The badges a member can earn now, by name, with `myProgress` for a signed-in member "
                                  "(secret badges only once held). Readable as `programSummary` is.")
    def badges(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Badge] | None:
        return badge_catalog(info, first, after)
