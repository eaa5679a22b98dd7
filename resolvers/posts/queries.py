"""The community feed (public), the moderation queue (moderators) and the post settings (staff)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from domain import bounds
from domain.errors import UserError
from domain.posts import rules
from infra.posts.store import QueueFilter
from resolvers.context import Info
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsStaff
from resolvers.posts.permissions import IsModerator
from resolvers.posts.types import FeedPost, Post, PostPlatform, PostSettingsView
from resolvers.scalars import bounded_arg

TagArg = Annotated[str | None, bounded_arg(bounds.TAG)]


def feed_tag(raw: str | None) -> str | None:
    if raw is None:
        return None
    tag = rules.tag_of(raw)  # the rule tags are stored by, so a filter finds what was stored
    if isinstance(tag, UserError):
        raise GraphQLError(f"tag: {tag.message}", extensions={"code": "BAD_USER_INPUT", "field": "tag",
                                                               "reason": tag.code.value})
    return tag


@strawberry.type
class PostQueries:
    @strawberry.field(description="Approved members' posts, newest first, for everyone (no sign-in needed) while the "
                                  "program has posts switched on; null otherwise. Filter by a platform or by a tag "
                                  "(one of them). One read per page.")
    def community_feed(self, info: Info, first: int | None = None, after: str | None = None,
                       platform: PostPlatform | None = None,  # type: ignore[valid-type]
                       tag: TagArg = None) -> Connection[FeedPost] | None:
        ctx = info.context
        if not ctx.programs.program().posts.enabled:
            return None
        wanted = feed_tag(tag)
        if wanted and platform is not None:
            raise GraphQLError("Filter the feed by a platform or by a tag, not both.",
                               extensions={"code": "BAD_USER_INPUT", "field": "tag", "reason": "INVALID"})
        posts, scope = ctx.posts, platform.value if platform is not None else None
        return connection(info, first, after, lambda size, start: posts.feed(size, start, scope, wanted), FeedPost.of)

    @strawberry.field(permission_classes=[IsModerator],
                      description="Moderators: pending posts, oldest first, with the member, order, link and caption. "
                                  "Filter by platform and by when they were submitted (after: from that instant; "
                                  "before: up to it, excluded). One read per page.")
    def moderation_queue(self, info: Info, first: int | None = None, after: str | None = None,
                         platform: PostPlatform | None = None,  # type: ignore[valid-type]
                         submitted_before: datetime | None = None,
                         submitted_after: datetime | None = None) -> Connection[Post]:
        q = QueueFilter(platform.value if platform is not None else None, submitted_after, submitted_before)
        posts = info.context.posts
        return connection(info, first, after, lambda size, start: posts.queue(q, size, start), Post.of)

    @strawberry.field(permission_classes=[IsStaff], description="Staff: what posts earn and how they are moderated.")
    def post_settings(self, info: Info) -> PostSettingsView:
        return PostSettingsView.of(info.context.programs.program().posts)
