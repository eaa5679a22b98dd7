"""The payload every post mutation returns: the post as the change left it, and the member it changed."""
from __future__ import annotations

import strawberry

from resolvers.errors import UserErrorType
from resolvers.payloads import ChangedMember
from resolvers.posts.types import Post


@strawberry.type(description="The post as the change left it (null when nothing changed), and its author as the change "
                             "left them (points included).")
class PostPayload(ChangedMember):
    post: Post | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


def done(item) -> PostPayload:  # type: ignore[no-untyped-def]
    return PostPayload(post=Post.of(item), changed_member=item.member_id)
