"""postDelete (the author): delete one's own post; an approved post's points follow the removal policy."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.permissions import IsMember
from resolvers.posts.mutations.payload import PostPayload, done
from resolvers.posts.mutations.post_ref import post_key
from resolvers.scalars import RefArg


@payload_errors(PostPayload)
def post_delete(info: Info, post_id: RefArg) -> PostPayload:
    ctx = info.context
    member_id = ctx.principal.member_id
    assert member_id is not None
    return done(ctx.post_desk.delete(member_id, post_key(str(post_id)), ctx.now()))


field = strawberry.mutation(
    resolver=post_delete, permission_classes=[IsMember],
    description="Delete your post. An approved post's points follow the program's removal policy; pending points "
                "are forfeited.")
