"""postEdit (member): caption, tags, media and display name; never rewarded again."""
from __future__ import annotations

import strawberry

from domain import bounds
from domain.posts.rules import check_edit
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.posts.mutations.post_ref import post_key
from resolvers.partial import given, updatable
from resolvers.permissions import IsMember
from resolvers.posts.mutations.payload import PostPayload, done
from resolvers.scalars import RefArg


@strawberry.input(description="What to change; fields left out keep their value.")
class PostEditInput:
    caption: str | None = updatable(clearable=True, bound=bounds.CAPTION)
    tags: list[str] | None = updatable(clearable=True, bound=bounds.TAG, description="At most 10.")
    media_urls: list[str] | None = updatable(clearable=True, bound=bounds.POST_LINK, description="At most 10, https.")
    display_name: str | None = updatable(clearable=True, bound=bounds.LABEL,
                                         description="Shown with the post in the feed; null: \"A member\".")


@payload_errors(PostPayload)
def post_edit(info: Info, post_id: RefArg, input: PostEditInput) -> PostPayload:
    ctx = info.context
    member_id = ctx.principal.member_id
    assert member_id is not None
    sent = {name for name in ("caption", "tags", "media_urls", "display_name") if given(getattr(input, name))}
    changes = check_edit(input.caption if "caption" in sent else None, input.tags if "tags" in sent else None,
                         input.media_urls if "media_urls" in sent else None,
                         input.display_name if "display_name" in sent else None, sent=sent)
    return done(ctx.posts.edit(member_id, post_key(str(post_id)), changes, ctx.now()))


field = strawberry.mutation(
    resolver=post_edit, permission_classes=[IsMember],
    description="Edit your post (not a removed one). An approved post's feed entries follow; it earns nothing again.")
