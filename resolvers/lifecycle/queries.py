"""Lifecycle queries (staff): the settings and the lapsed members, for export."""
from __future__ import annotations

import strawberry

from infra.lifecycle.standing import Standings
from resolvers.context import Info
from resolvers.lifecycle.types import LapsedMember, LifecycleSettingsView
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsStaff


@strawberry.type
class LifecycleQueries:
    @strawberry.field(permission_classes=[IsStaff], description="Staff: lapsing, anniversary and milestone settings.")
    def lifecycle_settings(self, info: Info) -> LifecycleSettingsView:
        return LifecycleSettingsView.of(info.context.programs.program().lifecycle)

    @strawberry.field(permission_classes=[IsStaff], description=(
        "Staff: members marked lapsed (no qualifying activity for `lapseAfterDays`), longest lapsed first; a "
        "member with new activity leaves the list."))
    def lapsed_members(self, info: Info, first: int | None = None,
                       after: str | None = None) -> Connection[LapsedMember]:
        return connection(info, first, after, Standings(info.context.require_tenant()).lapsed, LapsedMember.of)
