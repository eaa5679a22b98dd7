"""postApprove (moderators): approve a pending or rejected post. Its points are credited once, in the same
transaction as the state change, with the feed entries and the audit entry."""
from __future__ import annotations

import strawberry

from domain.posts import rules
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.posts.mutations.payload import PostPayload, done
from resolvers.posts.mutations.post_ref import post_key
from resolvers.posts.permissions import IsModerator, moderator
from resolvers.scalars import OptionalTextArg, RefArg


@payload_errors(PostPayload)
def post_approve(info: Info, post_id: RefArg, reason: OptionalTextArg = None) -> PostPayload:
    ctx = info.context
    note = rules.check_message(reason, "reason")
    return done(ctx.post_desk.approve(post_key(str(post_id)), moderator(ctx), ctx.now(), note))


field = strawberry.mutation(
    resolver=post_approve, permission_classes=[IsModerator],
    description="Moderators: approve a pending (or rejected) post. Its points are credited once, in the same "
                "transaction (pending while the program holds them; none over the member's cap, as rewardStatus "
                "says). Your own post: SELF_MODERATION.")
