"""postRemove (moderators): take down an approved post; its points follow the program's removal policy; audited."""
from __future__ import annotations

import strawberry

from domain.posts import rules
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.posts.mutations.payload import PostPayload, done
from resolvers.posts.mutations.post_ref import post_key
from resolvers.posts.permissions import IsModerator, moderator
from resolvers.posts.types import PostRemoveReason
from resolvers.scalars import OptionalTextArg, RefArg


@payload_errors(PostPayload)
def post_remove(info: Info, post_id: RefArg, reason: PostRemoveReason,  # type: ignore[valid-type]
                message: OptionalTextArg = None) -> PostPayload:
    ctx = info.context
    text = rules.check_message(message)
    return done(ctx.post_desk.remove(post_key(str(post_id)), moderator(ctx), ctx.now(), rules.RemoveReason(reason.value),
                                     text))


field = strawberry.mutation(
    resolver=post_remove, permission_classes=[IsModerator],
    description="Moderators: take down an approved post. Its points follow the program's removal policy; pending "
                "points are forfeited.")
