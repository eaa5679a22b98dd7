"""Member queries: `me` for members, `member` and `members` for staff."""
from __future__ import annotations

import strawberry

from infra.items import MemberProfile
from infra.members import to_member

from resolvers.context import Info
from resolvers.members.types import Member
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsMember, IsStaff


def load_member(info: Info, member_id: str) -> Member | None:
    """The one way to a Member object: refuses anyone who may not read that member."""
    ctx = info.context
    if not ctx.principal.can_read_member(member_id):
        raise PermissionError("You may not read this member.")
    profile = next((i for i in ctx.member_card(member_id) if isinstance(i, MemberProfile)), None)
    return Member.of(to_member(profile)) if profile else None


@strawberry.type
class MemberQueries:
    @strawberry.field(permission_classes=[IsMember],
                      description="The signed-in member, or null when they have not enrolled yet.")
    def me(self, info: Info) -> Member | None:
        return load_member(info, info.context.principal.member_id)

    @strawberry.field(permission_classes=[IsStaff], description="Staff: one member by id.")
    def member(self, info: Info, id: strawberry.ID) -> Member | None:
        return load_member(info, str(id))

    @strawberry.field(permission_classes=[IsStaff], description="Staff: members, newest first.")
    def members(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Member]:
        return connection(info, first, after, info.context.members.list, Member.of)
