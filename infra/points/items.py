"""PynamoDB item kinds of the points ledger."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem


class LedgerEntry(TableItem, discriminator="ledger"):
    """`TX#<ulid>`: append-only; only `status` changes (pending -> posted)."""

    member_id = UnicodeAttribute(attr_name="memberId")
    entry_type = UnicodeAttribute(attr_name="type")
    points = NumberAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)  # order:<id>, action:<type>:<ref>, coupon:<code>, staff:<id>
    order_id = UnicodeAttribute(null=True, attr_name="orderId")
    reward_id = UnicodeAttribute(null=True, attr_name="rewardId")
    coupon_code = UnicodeAttribute(null=True, attr_name="couponCode")
    actor = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")


class PointLot(TableItem, discriminator="lot"):
    """`LOT#<bucket>`: every point of a member that expires at the same moment (`LOT#2027-03`: when
    March 2027 ends; `LOT#NEVER`: no date). Credits ADD to it without a read (`MemberLedger.add_lot`);
    `points` only grows until the expire job removes the bucket. Lots written before buckets were
    `LOT#<expires>#<ulid>`, one per credit; every reader takes both."""

    member_id = UnicodeAttribute(null=True, attr_name="memberId")  # lots before buckets; see keys.member_of
    points = NumberAttribute()
    earned_at = UnicodeAttribute(null=True, attr_name="earnedAt")  # lots before buckets only
    expires_on = UnicodeAttribute(null=True, attr_name="expiresOn")  # not the TTL: lots must never vanish
    reminded = BooleanAttribute(default=False)  # an expiring-soon event went out for what it holds now


class OrderRecord(TableItem, discriminator="order"):
    """`SRC#order#<id>`: the order's points per line; its existence makes the credit happen once."""

    order_id = UnicodeAttribute(attr_name="orderId")
    member_id = UnicodeAttribute(attr_name="memberId")
    ordered_at = UnicodeAttribute(attr_name="orderedAt")
    currency = UnicodeAttribute()
    lines = JSONAttribute()
    points = NumberAttribute()
    pending_points = NumberAttribute(attr_name="pendingPoints")
    status = UnicodeAttribute()  # PENDING | RELEASED
    delivered_at = UnicodeAttribute(null=True, attr_name="deliveredAt")
    release_at = UnicodeAttribute(attr_name="releaseAt")
    earn_entry = UnicodeAttribute(null=True, attr_name="earnEntry")
    returned = BooleanAttribute(default=False)
    version = NumberAttribute(default=1)
    qual_month = UnicodeAttribute(null=True, attr_name="qualMonth")  # local month its points qualified in


class SourceMark(TableItem, discriminator="source"):
    """`SRC#<cause>`: a cause (action, refund, return) that has been credited or debited already."""

    cause = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


class UnclaimedOrder(TableItem, discriminator="unclaimed-order"):
    """An order for an email with no member yet, kept under `T#t#EMAIL#<email>` until they enroll."""

    order_id = UnicodeAttribute(attr_name="orderId")
    order = JSONAttribute()
    refunds = JSONAttribute(default=list)
    created_at = UnicodeAttribute(attr_name="createdAt")


class ProgramConfig(TableItem, discriminator="program"):
    config = JSONAttribute()
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(null=True, attr_name="updatedBy")


class RewardItem(TableItem, discriminator="reward"):
    """`REWARD#<id>` in the program partition; `stock_left` and `status` are checked on every redemption."""

    reward_id = UnicodeAttribute(attr_name="rewardId")
    definition = JSONAttribute()
    status = UnicodeAttribute()  # ACTIVE | INACTIVE
    stock_left = NumberAttribute(null=True, attr_name="stockLeft")
    redeemed = NumberAttribute(default=0)
    version = NumberAttribute(default=1)


class RewardLimit(TableItem, discriminator="reward-limit"):
    count = NumberAttribute(default=0)


class Coupon(TableItem, discriminator="coupon"):
    code = UnicodeAttribute()
    member_id = UnicodeAttribute(attr_name="memberId")
    reward_id = UnicodeAttribute(attr_name="rewardId")
    reward = JSONAttribute()
    points = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    consumed_at = UnicodeAttribute(null=True, attr_name="consumedAt")
    order_id = UnicodeAttribute(null=True, attr_name="orderId")
    entry = UnicodeAttribute(attr_name="entry")


class IdempotencyRecord(TableItem, discriminator="idempotency"):
    fingerprint = UnicodeAttribute()
    result = JSONAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


class ActionCount(TableItem, discriminator="action-count"):
    count = NumberAttribute(default=0)
    last_at = UnicodeAttribute(null=True, attr_name="lastAt")


class AuditEntry(TableItem, discriminator="audit"):
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    member_id = UnicodeAttribute(null=True, attr_name="memberId")
    detail = JSONAttribute()
    reason = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


class OrderOwner(TableItem, discriminator="order-owner"):
    """`T#t#ORDER#<id>` / `OWNER`: which member (or, before they enroll, which email) an order is for."""

    member_id = UnicodeAttribute(null=True, attr_name="memberId")
    email = UnicodeAttribute(null=True)


class WebhookReceipt(TableItem, discriminator="webhook"):
    topic = UnicodeAttribute()
    received_at = UnicodeAttribute(attr_name="receivedAt")
