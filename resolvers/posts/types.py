"""GraphQL shapes of members' posts: `Post` (its author and staff), `FeedPost` (public: no member id, the
author only by the display name they chose), unboxing invites and the program's post settings."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.posts import rules
from domain.posts.settings import Period, PostSettings, RemovalPolicy
from domain.posts.urls import Platform
from infra.posts.items import FeedEntry, PostItem, UnboxInvite
from resolvers.nodes import Node, node_type
from resolvers.pagination import Connection, connection

EMBEDDED = "An embedded value of its parent: it has no id and is always answered whole with the parent."

PostPlatform = strawberry.enum(Platform, name="PostPlatform", description="Where a post is published.")
PostState = strawberry.enum(rules.PostState, name="PostState",
                            description="PENDING: waiting for a moderator. APPROVED: rewarded (see rewardStatus) and "
                                        "in the feed. REJECTED: see rejectReason and message. REMOVED: taken down by "
                                        "staff after approval, or deleted by the member.")
PostRejectReason = strawberry.enum(rules.RejectReason, name="PostRejectReason", description="Why a post was rejected.")
PostRemoveReason = strawberry.enum(rules.RemoveReason, name="PostRemoveReason", description="Why a post was removed.")
PostRewardStatus = strawberry.enum(rules.RewardStatus, name="PostRewardStatus",
                                   description="What the post earns now: CREDITED (available), HELD (pending until "
                                               "releaseAt), CAPPED (approved over the member's limit for the period: "
                                               "no points), NO_POINTS, REVERSED / FORFEITED (taken back when rejected "
                                               "or removed), KEPT (removed; the member keeps them), NONE.")
PostCapPeriod = strawberry.enum(Period, name="PostCapPeriod", description="The period a cap counts in, on the "
                                                                          "program's calendar.")
PostRemovalPolicy = strawberry.enum(RemovalPolicy, name="PostRemovalPolicy",
                                    description="What removal does to an approved post's points: CLAW_BACK (taken back; "
                                                "debt for what was spent) or KEEP. Pending points are always forfeited.")


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _may_read_post(info: Any, post: "Post") -> bool:
    p = info.context.principal
    return p.is_staff() or (p.member_id is not None and p.member_id == str(post.member_id))


def _load_post(info: Any, key: str) -> "Post | None":
    item = info.context.posts.find(key)
    return Post.of(item) if item else None


@node_type(load=_load_post, may_read=_may_read_post)
@strawberry.type(description="A member's post (unboxing or other content) and what it earned. Readable by its author "
                             "and staff.")
class Post(Node):
    post_id: strawberry.ID = strawberry.field(description="The post's own id; arguments that take a post take it or `id`.")
    member_id: strawberry.ID
    platform: PostPlatform  # type: ignore[valid-type]
    url: str = strawberry.field(description="The link in its one canonical form (tracking parameters dropped).")
    caption: str
    tags: list[str]
    media_urls: list[str]
    display_name: str | None = strawberry.field(description="Shown with the post in the community feed; null: "
                                                            "\"A member\".")
    order_id: str | None = strawberry.field(description="The delivered order it is the unboxing post of.")
    unboxing: bool
    state: PostState  # type: ignore[valid-type]
    reject_reason: PostRejectReason | None  # type: ignore[valid-type]
    remove_reason: PostRemoveReason | None  # type: ignore[valid-type]
    message: str | None = strawberry.field(description="What the moderator told the member.")
    submitted_at: datetime
    decided_at: datetime | None
    approved_at: datetime | None
    points: int = strawberry.field(description="Points credited for it now (pending while held).")
    reward_status: PostRewardStatus  # type: ignore[valid-type]
    reward_note: str | None = strawberry.field(description="Why it earned what it did, when that needs saying "
                                                           "(over the cap, the gift not available).")
    release_at: datetime | None = strawberry.field(description="When held points become available.")
    coupon_code: str | None = strawberry.field(description="The gift coupon it earned, if the program gives one.")

    def node_key(self) -> str:
        return str(self.post_id)

    @classmethod
    def of(cls, p: PostItem) -> "Post":
        state = rules.PostState(p.state)
        reason = p.reason_code
        return cls(post_id=strawberry.ID(p.post_id), member_id=strawberry.ID(p.member_id), platform=Platform(p.platform),
                   url=p.url, caption=p.caption or "", tags=list(p.tags or []), media_urls=list(p.media_urls or []),
                   display_name=p.display_name, order_id=p.order_id, unboxing=bool(p.unboxing), state=state,
                   reject_reason=rules.RejectReason(reason) if reason and state is rules.PostState.REJECTED else None,
                   remove_reason=rules.RemoveReason(reason) if reason and state is rules.PostState.REMOVED else None,
                   message=p.reason_message, submitted_at=datetime.fromisoformat(p.submitted_at),
                   decided_at=_at(p.decided_at),
                   approved_at=_at(p.approved_at) if state is rules.PostState.APPROVED else None,
                   points=int(p.credited_points or 0), reward_status=rules.RewardStatus(p.reward_status or "NONE"),
                   reward_note=p.reward_note,
                   release_at=_at(p.release_at) if p.credit_held else None, coupon_code=p.coupon_code)


def _load_feed_post(info: Any, key: str) -> "FeedPost | None":
    ctx = info.context
    if not ctx.programs.program().posts.enabled:
        return None
    item = ctx.posts.find(key)
    if item is None or item.state != rules.PostState.APPROVED.value or not item.approved_at:
        return None
    return FeedPost(post_id=strawberry.ID(item.post_id), platform=Platform(item.platform), url=item.url,
                    caption=item.caption or "", tags=list(item.tags or []), media_urls=list(item.media_urls or []),
                    author=item.display_name, unboxing=bool(item.unboxing),
                    approved_at=datetime.fromisoformat(item.approved_at))


@node_type(load=_load_feed_post)
@strawberry.type(description="An approved post as the public community feed shows it: never the member's id or email.")
class FeedPost(Node):
    post_id: strawberry.ID
    platform: PostPlatform  # type: ignore[valid-type]
    url: str
    caption: str
    tags: list[str]
    media_urls: list[str]
    author: str | None = strawberry.field(description="The display name the member chose for the post; null: show "
                                                      "\"A member\".")
    unboxing: bool
    approved_at: datetime

    def node_key(self) -> str:
        return str(self.post_id)

    @classmethod
    def of(cls, e: FeedEntry) -> "FeedPost":
        return cls(post_id=strawberry.ID(e.post_id), platform=Platform(e.platform), url=e.url, caption=e.caption or "",
                   tags=list(e.tags or []), media_urls=list(e.media_urls or []), author=e.display_name,
                   unboxing=bool(e.unboxing), approved_at=datetime.fromisoformat(e.approved_at))


@strawberry.type(description=f"A delivered order the member may post an unboxing about, until `closesAt`. {EMBEDDED}")
class UnboxingInvite:
    order_id: str
    delivered_at: datetime | None
    closes_at: datetime | None

    @classmethod
    def of(cls, i: UnboxInvite) -> "UnboxingInvite":
        return cls(order_id=i.order_id, delivered_at=_at(i.delivered_at), closes_at=_at(i.closes_at))


@strawberry.type(name="PostSettings", description=f"What members' posts earn and how they are moderated. {EMBEDDED}")
class PostSettingsView:
    enabled: bool
    points_per_post: int
    unboxing_points: int = strawberry.field(description="Instead of pointsPerPost, for a post about a delivered order.")
    hold_days: int = strawberry.field(description="Days approved points stay pending; 0: available at once.")
    cap: int | None = strawberry.field(description="Rewarded posts per member per period; null: no limit.")
    period: PostCapPeriod  # type: ignore[valid-type]
    removal_policy: PostRemovalPolicy  # type: ignore[valid-type]
    reward_id: str | None = strawberry.field(description="A catalog reward given as a gift coupon with each rewarded "
                                                         "approval.")
    auto_approve_min_rank: int | None
    auto_approve_after_posts: int | None
    auto_approve_clean_days: int
    unboxing_window_days: int

    @classmethod
    def of(cls, s: PostSettings) -> "PostSettingsView":
        return cls(enabled=s.enabled, points_per_post=s.points_per_post, unboxing_points=s.unboxing_points,
                   hold_days=s.hold_days, cap=s.cap, period=s.period, removal_policy=s.removal_policy,
                   reward_id=s.reward_id, auto_approve_min_rank=s.auto_approve_min_rank,
                   auto_approve_after_posts=s.auto_approve_after_posts,
                   auto_approve_clean_days=s.auto_approve_clean_days, unboxing_window_days=s.unboxing_window_days)


def member_posts(info: Any, member_id: str, first: int | None, after: str | None) -> Connection[Post]:
    posts = info.context.posts
    return connection(info, first, after, lambda size, start: posts.member_posts(member_id, size, start), Post.of,
                      owner=member_id)


def member_invites(info: Any, member_id: str) -> list[UnboxingInvite]:
    ctx = info.context
    if not ctx.programs.program().posts.enabled:
        return []
    return [UnboxingInvite.of(i) for i in ctx.posts.invites(member_id, ctx.now())]
