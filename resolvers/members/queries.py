"""Member queries: `me` for members, `member` and `members` for staff."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.members.types import Member
from resolvers.nodes import query_key_for, read
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsMember, IsStaff
from resolvers.scalars import RefArg


def load_member(info: Info, member_id: str) -> Member | None:
    """The one way to a Member object for a root field: refuses anyone who may not read that member
    (FORBIDDEN), then reads it as `node(id:)` does."""
    if not info.context.principal.can_read_member(member_id):
        raise PermissionError("You may not read this member.")
    return read(info, Member, member_id)


@strawberry.type
class MemberQueries:
    @strawberry.field(permission_classes=[IsMember],
                      description="The signed-in member, or null when they have not enrolled yet.")
    def me(self, info: Info) -> Member | None:
        return load_member(info, info.context.principal.member_id)

    @strawberry.field(permission_classes=[IsStaff], description="Staff: one member by `id` or by their own id.")
    def member(self, info: Info, id: RefArg) -> Member | None:
        return load_member(info, query_key_for(str(id), "Member", "id"))

    @strawberry.field(permission_classes=[IsStaff], description="Staff: members, newest first.")
    def members(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Member]:
        return connection(info, first, after, info.context.members.list, Member.of)
