"""Members' posts: submitting (one transaction: the post, its link's tenant-wide claim, the order's one
unboxing mark), editing, and the reads: a member's posts, the moderation queue, the community feed and
unboxing invites, each one Query."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.errors import ErrorCode, UserError
from domain.posts import rules
from domain.posts.rules import PostState, Submission
from domain.posts.urls import url_key
from infra import keys
from infra.dynamo_errors import call, guarded
from infra.ids import new_ulid
from infra.items import MemberProfile
from infra.pages import Page, page, start_key
from infra.points.items import OrderRecord
from infra.points.program_store import ProgramStore
from infra.posts import feed
from infra.posts.items import CLAIM_SK, FeedEntry, PostItem, PostOwner, PostStats, PostUrlClaim, UnboxInvite
from infra.transaction import Transaction, TransactionCancelled

INVITES_MAX = 50
INVITED, POSTED = "INVITED", "POSTED"


def queue_sk(post: PostItem) -> str:
    return f"{post.submitted_at}#{post.post_id}"


@dataclass(frozen=True)
class QueueFilter:
    platform: str | None = None
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None


class Posts:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def _enabled(self) -> None:
        if not self.programs.program().posts.enabled:
            raise UserError(ErrorCode.NOT_AVAILABLE, "Posts are not part of this program.")

    # -- reads -----------------------------------------------------------------------------------
    @guarded
    def own(self, member_id: str, post_id: str) -> PostItem | None:
        try:
            return PostItem.get(keys.member_pk(self.tenant, member_id), keys.post_sk(post_id), consistent_read=True)
        except PostItem.DoesNotExist:
            return None

    @guarded
    def owner(self, post_id: str) -> str | None:
        try:
            return PostOwner.get(keys.post_pk(self.tenant, post_id), keys.POST_OWNER_SK).member_id
        except PostOwner.DoesNotExist:
            return None

    def find(self, post_id: str) -> PostItem | None:
        """A post by its id alone: which member it belongs to, then the post (two GetItems)."""
        member_id = self.owner(post_id)
        return self.own(member_id, post_id) if member_id else None

    @guarded
    def stats(self, member_id: str) -> rules.Stats:
        try:
            s = PostStats.get(keys.member_pk(self.tenant, member_id), keys.POST_STATS_SK, consistent_read=True)
        except PostStats.DoesNotExist:
            return rules.Stats()
        return rules.Stats(int(s.approved or 0),
                           datetime.fromisoformat(s.last_rejected_at) if s.last_rejected_at else None)

    def member_posts(self, member_id: str, first: int, after: dict | None) -> Page:
        pk = keys.member_pk(self.tenant, member_id)
        start = start_key(after, pk)
        return call(lambda: page(PostItem.query(pk, PostItem.SK.startswith(keys.POST_PREFIX), limit=first + 1,
                                                last_evaluated_key=start, scan_index_forward=False,
                                                consistent_read=True),
                                 lambda p: p, ("PK", "SK"), first), what="member posts")

    def queue(self, q: QueueFilter, first: int, after: dict | None) -> Page:
        """Pending posts, oldest first: GSI1 (every platform) or GSI2 (one platform), one Query a page."""
        low = q.submitted_after.isoformat() if q.submitted_after else None
        high = q.submitted_before.isoformat() if q.submitted_before else None
        if q.platform:
            index, pk_attr, sk_attr = PostItem.due, "GSI2PK", "GSI2SK"
            pk = keys.post_queue_pk(self.tenant, q.platform)
        else:
            index, pk_attr, sk_attr = PostItem.lookup, "GSI1PK", "GSI1SK"
            pk = keys.post_queue_pk(self.tenant)
        attr = getattr(PostItem, sk_attr)
        condition = None
        if low and high:
            condition = attr.between(low, high)
        elif low:
            condition = attr >= low
        elif high:
            condition = attr < high
        start = start_key(after, pk, pk_attr)
        return call(lambda: page(index.query(pk, condition, limit=first + 1, last_evaluated_key=start,
                                             scan_index_forward=True),
                                 lambda p: p, ("PK", "SK", pk_attr, sk_attr), first), what="moderation queue")

    def feed(self, first: int, after: dict | None, platform: str | None = None, tag: str | None = None) -> Page:
        """Approved posts, newest first: one Query of one feed list a page (a platform's, a tag's, or all)."""
        if tag and platform:
            raise UserError(ErrorCode.INVALID, "Filter the feed by a platform or by a tag, not both.", "tag")
        scope = f"T:{tag}" if tag else f"P:{platform}" if platform else feed.ALL
        pk = keys.feed_pk(self.tenant, scope)
        start = start_key(after, pk)
        return call(lambda: page(FeedEntry.query(pk, None, limit=first + 1,
                                                 last_evaluated_key=start, scan_index_forward=False),
                                 lambda e: e, ("PK", "SK"), first), what="community feed")

    def invites(self, member_id: str, now: datetime) -> list[UnboxInvite]:
        """Open unboxing invites (not closed, no post yet), soonest closing first; at most 50."""
        pk = keys.member_pk(self.tenant, member_id)
        items = call(lambda: list(UnboxInvite.query(pk, UnboxInvite.SK.startswith(keys.UNBOX_PREFIX),
                                                    consistent_read=True, limit=200)), what="unboxing invites")
        now_iso = now.isoformat()
        open_ = [i for i in items if i.state == INVITED and (i.closes_at is None or i.closes_at > now_iso)]
        return sorted(open_, key=lambda i: (i.closes_at or "", i.order_id))[:INVITES_MAX]

    # -- submitting --------------------------------------------------------------------------------
    @guarded
    def _order(self, member_id: str, order_id: str) -> OrderRecord | None:
        try:
            return OrderRecord.get(keys.member_pk(self.tenant, member_id), keys.order_sk(order_id), consistent_read=True)
        except OrderRecord.DoesNotExist:
            return None

    def submit(self, member_id: str, sub: Submission, now: datetime) -> PostItem:
        """One transaction: the post (PENDING, in both queues), its owner mark, the link's claim and, for
        an unboxing post, the order's mark. Nothing is written when any of them fails."""
        self._enabled()
        unboxing = False
        if sub.order_id:
            record = self._order(member_id, sub.order_id)
            if record is None:
                raise UserError(ErrorCode.NOT_FOUND, "No such order of yours.", "orderId")
            if not record.delivered_at:
                raise UserError(ErrorCode.NOT_DELIVERED, "This order has not been delivered yet.", "orderId")
            window = self.programs.program().posts.unboxing_window_days
            if datetime.fromisoformat(record.delivered_at) + timedelta(days=window) < now:
                raise UserError(ErrorCode.NOT_AVAILABLE, f"Unboxing posts are taken up to {window} days after "
                                                         "delivery.", "orderId")
            unboxing = True
        pk = keys.member_pk(self.tenant, member_id)
        post_id = new_ulid(int(now.timestamp() * 1000))
        post = PostItem(pk, keys.post_sk(post_id), post_id=post_id, member_id=member_id, platform=sub.platform.value,
                        url=sub.url, caption=sub.caption, tags=list(sub.tags), media_urls=list(sub.media_urls),
                        display_name=sub.display_name, order_id=sub.order_id, unboxing=unboxing,
                        state=PostState.PENDING.value, submitted_at=now.isoformat(), version=1)
        post.GSI1PK, post.GSI1SK = keys.post_queue_pk(self.tenant), queue_sk(post)
        post.GSI2PK, post.GSI2SK = keys.post_queue_pk(self.tenant, sub.platform.value), queue_sk(post)
        tx = Transaction()
        tx.check("profile", MemberProfile, pk, keys.PROFILE, MemberProfile.PK.exists())
        tx.put("post", post, PostItem.PK.does_not_exist())
        tx.put("owner", PostOwner(keys.post_pk(self.tenant, post_id), keys.POST_OWNER_SK, member_id=member_id),
               PostOwner.PK.does_not_exist())
        tx.put("url", PostUrlClaim(keys.post_url_pk(self.tenant, url_key(sub.url)), CLAIM_SK, member_id=member_id,
                                   post_id=post_id, url=sub.url, created_at=now.isoformat()),
               PostUrlClaim.PK.does_not_exist())
        if sub.order_id:
            tx.update("order", UnboxInvite(pk, keys.unbox_sk(sub.order_id)),
                      [UnboxInvite.state.set(POSTED), UnboxInvite.post_id.set(post_id),
                       UnboxInvite.order_id.set(sub.order_id), UnboxInvite.kind.set(UnboxInvite),
                       UnboxInvite.expires_at.remove()],
                      UnboxInvite.state.does_not_exist() | (UnboxInvite.state == INVITED))
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("profile"):
                raise UserError(ErrorCode.NOT_ENROLLED, "Enroll in the program first.") from None
            if c.failed_on("url"):
                raise UserError(ErrorCode.DUPLICATE_POST, "This post was submitted already.", "url") from None
            if c.failed_on("order"):
                raise UserError(ErrorCode.DUPLICATE_POST, "This order has its unboxing post already.",
                                "orderId") from None
            raise
        return post

    # -- editing -------------------------------------------------------------------------------------
    def edit(self, member_id: str, post_id: str, changes: dict[str, Any], now: datetime) -> PostItem:
        """Caption, tags, media and display name; never a reward again. An approved post's feed entries
        follow in the same transaction (conditioned on the post's version)."""
        for _ in range(3):
            post = self.own(member_id, post_id)
            if post is None:
                raise UserError(ErrorCode.NOT_FOUND, "No such post.", "postId")
            rules.may_edit(PostState(post.state))
            if not changes:
                return post
            tx = Transaction()
            P = PostItem
            attrs = {"caption": P.caption, "tags": P.tags, "media_urls": P.media_urls, "display_name": P.display_name}
            actions = [P.version.add(1)]
            for name, value in changes.items():
                actions.append(attrs[name].remove() if value is None else attrs[name].set(
                    list(value) if isinstance(value, tuple) else value))
            shown = {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()}
            if post.state == PostState.APPROVED.value and post.approved_at:
                where = feed.entry_keys(self.tenant, post, post.approved_at, shown.get("tags"))
                feed.delete_entries(tx, [k for k in post.feed_keys if tuple(k) not in {tuple(w) for w in where}])
                feed.put_entries(tx, post, where, post.approved_at, **shown)
                actions.append(P.feed_keys.set(where))
            tx.update("post", post, actions, (P.version == post.version) & (P.state == post.state))
            try:
                tx.commit()
            except TransactionCancelled as c:
                if c.failed_on("post"):
                    continue
                raise
            fresh = self.own(member_id, post_id)
            assert fresh is not None
            return fresh
        raise UserError(ErrorCode.CONFLICT, "The post kept changing; try again.", "postId")
