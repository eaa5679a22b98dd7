"""postReject (moderators): reject a pending post, or reverse an approval with its points taken back; audited."""
from __future__ import annotations

import strawberry

from domain.posts import rules
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.posts.mutations.payload import PostPayload, done
from resolvers.posts.mutations.post_ref import post_key
from resolvers.posts.permissions import IsModerator, moderator
from resolvers.posts.types import PostRejectReason
from resolvers.scalars import OptionalTextArg, RefArg


@payload_errors(PostPayload)
def post_reject(info: Info, post_id: RefArg, reason: PostRejectReason,  # type: ignore[valid-type]
                message: OptionalTextArg = None) -> PostPayload:
    ctx = info.context
    text = rules.check_message(message)
    return done(ctx.post_desk.reject(post_key(str(post_id)), moderator(ctx), ctx.now(), rules.RejectReason(reason.value),
                                     text))


field = strawberry.mutation(
    resolver=post_reject, permission_classes=[IsModerator],
    description="Moderators: reject a pending post, or reverse an approval (its points are taken back; what was spent "
                "becomes debt). `message` is shown to the member.")
