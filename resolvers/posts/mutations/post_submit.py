"""postSubmit (member): a link to a post about the brand, checked, normalised and claimed tenant-wide."""
from __future__ import annotations

from typing import Annotated

import strawberry

from domain import bounds
from domain.posts.rules import check_submission
from domain.posts.urls import Platform
from resolvers.context import Info
from resolvers.errors import payload_errors
from resolvers.permissions import IsMember
from resolvers.posts.mutations.payload import PostPayload, done
from resolvers.posts.types import PostPlatform
from resolvers.scalars import bounded_arg

OrderArg = Annotated[strawberry.ID | None, bounded_arg(bounds.IDENTIFIER, description="A delivered order of yours: "
                                                                                  "this is its unboxing post.")]
LinkArg = Annotated[str, bounded_arg(bounds.POST_LINK)]
CaptionArg = Annotated[str | None, bounded_arg(bounds.CAPTION)]
MediaArg = Annotated[list[str] | None, bounded_arg(bounds.POST_LINK, description="At most 10 images or videos, https.")]
TagsArg = Annotated[list[str] | None, bounded_arg(bounds.TAG, description="At most 10.")]
NameArg = Annotated[str | None, bounded_arg(bounds.LABEL, description="Given: the feed shows it with the post (at "
                                                                      "most 50 characters). Left out: \"A member\".")]


@payload_errors(PostPayload)
def post_submit(info: Info, platform: PostPlatform, url: LinkArg,  # type: ignore[valid-type]
                caption: CaptionArg = None, order_id: OrderArg = None, media_urls: MediaArg = None,
                tags: TagsArg = None, display_name: NameArg = None) -> PostPayload:
    ctx = info.context
    member_id = ctx.principal.member_id
    assert member_id is not None
    sub = check_submission(Platform(platform.value), url, caption, tags, media_urls, display_name,
                           str(order_id) if order_id else None)
    return done(ctx.post_desk.submit(member_id, sub, ctx.now()))


field = strawberry.mutation(
    resolver=post_submit, permission_classes=[IsMember],
    description="Submit a post for moderation (or approval at once, under the program's auto-approval rules). The "
                "same post, however its link is pasted, is taken once in the program: DUPLICATE_POST. With `orderId` "
                "(a delivered order of yours, once per order) it is the order's unboxing post.")
