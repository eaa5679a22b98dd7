"""Item kinds of members' posts.

    T#t#M#<m>        / UGC#<post>            the post: state, link, caption, what is credited for it now
    T#t#M#<m>        / UGCSTATS              the member's record with posts (auto-approval reads it)
    T#t#M#<m>        / UNBOX#<order>         an unboxing invite (INVITED) or the order's one post (POSTED)
    T#t#POST#<post>  / POST                  which member a post id belongs to
    T#t#POSTURL#<h>  / CLAIM                 the canonical link's tenant-wide claim (attribute_not_exists)
    T#t#FEED#<scope> / <approvedAt>#<post>   what the community feed shows of an approved post
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem

CLAIM_SK = "CLAIM"


class PostItem(TableItem, discriminator="post"):
    post_id = UnicodeAttribute(attr_name="postId")
    member_id = UnicodeAttribute(attr_name="memberId")
    platform = UnicodeAttribute()
    url = UnicodeAttribute()  # canonical (domain/posts/urls.py)
    caption = UnicodeAttribute(default="")
    tags = JSONAttribute(default=list)
    media_urls = JSONAttribute(default=list, attr_name="mediaUrls")
    display_name = UnicodeAttribute(null=True, attr_name="displayName")  # given with the post: shown in the feed
    order_id = UnicodeAttribute(null=True, attr_name="orderId")
    unboxing = BooleanAttribute(default=False)  # about a delivered order of the member's
    state = UnicodeAttribute()
    reason_code = UnicodeAttribute(null=True, attr_name="reasonCode")
    reason_message = UnicodeAttribute(null=True, attr_name="reasonMessage")  # what the member is told
    submitted_at = UnicodeAttribute(attr_name="submittedAt")
    decided_at = UnicodeAttribute(null=True, attr_name="decidedAt")
    decided_by = UnicodeAttribute(null=True, attr_name="decidedBy")
    approved_at = UnicodeAttribute(null=True, attr_name="approvedAt")
    ever_approved = BooleanAttribute(default=False, attr_name="everApproved")  # post.approved went out once
    credited_points = NumberAttribute(default=0, attr_name="creditedPoints")  # credited for it now
    credit_held = BooleanAttribute(default=False, attr_name="creditHeld")  # ... as pending, until releaseAt
    credit_entry = UnicodeAttribute(null=True, attr_name="creditEntry")  # the pending entry the release posts
    qual_month = UnicodeAttribute(null=True, attr_name="qualMonth")  # where its points qualified for tiers
    release_at = UnicodeAttribute(null=True, attr_name="releaseAt")
    reward_status = UnicodeAttribute(default="NONE", attr_name="rewardStatus")
    reward_note = UnicodeAttribute(null=True, attr_name="rewardNote")
    coupon_code = UnicodeAttribute(null=True, attr_name="couponCode")  # the gift coupon, once
    cap_bucket = UnicodeAttribute(null=True, attr_name="capBucket")  # the cap period its points count in
    feed_keys = JSONAttribute(default=list, attr_name="feedKeys")  # [pk, sk] of its feed entries now
    version = NumberAttribute(default=1)


class PostStats(TableItem, discriminator="post-stats"):
    approved = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)
    last_rejected_at = UnicodeAttribute(null=True, attr_name="lastRejectedAt")


class UnboxInvite(TableItem, discriminator="unbox"):
    order_id = UnicodeAttribute(attr_name="orderId")
    state = UnicodeAttribute()  # INVITED | POSTED
    delivered_at = UnicodeAttribute(null=True, attr_name="deliveredAt")
    closes_at = UnicodeAttribute(null=True, attr_name="closesAt")
    post_id = UnicodeAttribute(null=True, attr_name="postId")


class PostOwner(TableItem, discriminator="post-owner"):
    member_id = UnicodeAttribute(attr_name="memberId")


class PostUrlClaim(TableItem, discriminator="post-url"):
    member_id = UnicodeAttribute(attr_name="memberId")
    post_id = UnicodeAttribute(attr_name="postId")
    url = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


class FeedEntry(TableItem, discriminator="feed-entry"):
    """Only what the public feed shows: never the member's id or email."""

    post_id = UnicodeAttribute(attr_name="postId")
    platform = UnicodeAttribute()
    url = UnicodeAttribute()
    caption = UnicodeAttribute(default="")
    tags = JSONAttribute(default=list)
    media_urls = JSONAttribute(default=list, attr_name="mediaUrls")
    display_name = UnicodeAttribute(null=True, attr_name="displayName")
    unboxing = BooleanAttribute(default=False)
    approved_at = UnicodeAttribute(attr_name="approvedAt")
