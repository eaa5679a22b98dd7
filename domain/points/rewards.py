"""The rewards catalog and what makes a redemption allowed; coupon codes."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from domain import bounds
from domain.errors import ErrorCode, UserError, collect

_REWARD_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_COST = 10_000_000


class RewardKind(Enum):
    FIXED_AMOUNT_DISCOUNT = "FIXED_AMOUNT_DISCOUNT"
    PERCENT_DISCOUNT = "PERCENT_DISCOUNT"
    FREE_SHIPPING = "FREE_SHIPPING"
    FREE_PRODUCT = "FREE_PRODUCT"
    CUSTOM = "CUSTOM"


class CouponStatus(Enum):
    ISSUED = "ISSUED"
    CONSUMED = "CONSUMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    kind: RewardKind
    points_cost: int
    value: Decimal | None = None  # amount off, percent off; none for free shipping
    currency: str | None = None
    product_sku: str | None = None
    tier_gate: str | None = None  # only members of this tier (or above, once tiers rank them); `requiresTier`
    stock_total: int | None = None  # None: unlimited
    per_member_limit: int | None = None
    active_from: datetime | None = None  # `startsAt`: redeemable from then on
    active_until: datetime | None = None  # `endsAt`: redeemable until just before then
    active: bool = True
    description: str = ""
    image_url: str | None = None  # https only (bounds.URL), shown by storefronts

    def available_at(self, now: datetime, early_hours: int = 0) -> bool:
        """`early_hours`: a tier's early access opens the reward that many hours before `active_from`."""
        opens = self.active_from - timedelta(hours=early_hours) if self.active_from is not None else None
        return (self.active and (opens is None or opens <= now)
                and (self.active_until is None or now < self.active_until))


def validate_reward(r: Reward) -> Reward:
    problems: list[UserError | None] = []
    if not _REWARD_ID.match(r.id):
        problems.append(UserError(ErrorCode.INVALID, "Reward ids are lower-case slugs of up to 48 characters.", "id"))
    if not r.name.strip() or len(r.name) > 120:
        problems.append(UserError(ErrorCode.INVALID, "A reward has a name of 1-120 characters.", "name"))
    if not 1 <= r.points_cost <= MAX_COST:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "The points cost is 1 to 10,000,000.", "pointsCost"))
    if r.kind is RewardKind.PERCENT_DISCOUNT and (r.value is None or not Decimal(0) < r.value <= Decimal(100)):
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "A percent discount is more than 0 and at most 100.", "value"))
    if r.kind is RewardKind.FIXED_AMOUNT_DISCOUNT and (r.value is None or r.value <= 0 or not r.currency):
        problems.append(UserError(ErrorCode.INVALID, "A fixed discount has a positive value and a currency.", "value"))
    if r.kind is RewardKind.FREE_PRODUCT and not r.product_sku:
        problems.append(UserError(ErrorCode.REQUIRED, "A free product names its SKU.", "productSku"))
    if r.stock_total is not None and r.stock_total < 0:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Stock cannot be negative.", "stockTotal"))
    if r.per_member_limit is not None and r.per_member_limit < 1:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "A per-member limit is at least 1.", "perMemberLimit"))
    if r.active_from and r.active_until and r.active_until <= r.active_from:
        problems.append(UserError(ErrorCode.INVALID, "The reward ends after it starts.", "endsAt"))
    if r.image_url is not None:
        problems.append(bounds.problem(bounds.URL.check(r.image_url), "imageUrl"))
    collect(*problems)
    return r


def check_redeemable(reward: Reward | None, now: datetime, early_hours: int = 0) -> Reward:
    if reward is None:
        raise UserError(ErrorCode.NOT_FOUND, "No such reward.", "rewardId")
    if not reward.available_at(now, early_hours):
        if reward.active and reward.active_from is not None and now < reward.active_from:
            message = f"This reward can be redeemed from {reward.active_from.isoformat()}."
        elif reward.active and reward.active_until is not None and now >= reward.active_until:
            message = f"This reward could be redeemed until {reward.active_until.isoformat()}."
        else:
            message = "This reward is not available now."
        raise UserError(ErrorCode.NOT_AVAILABLE, message, "rewardId")
    return reward


def new_coupon_code(prefix: str = "KZ") -> str:
    return prefix + "-" + "".join(secrets.choice(COUPON_ALPHABET) for _ in range(10))


def request_fingerprint(payload: dict[str, Any]) -> str:
    """Same idempotency key with the same input -> same fingerprint; anything else differs."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 8 <= len(key) <= 128 or not key.isascii() or not key.isprintable():
        raise UserError(ErrorCode.INVALID, "An idempotency key is 8-128 printable ASCII characters.",
                        "idempotencyKey")
    return key


def reward_to_dict(r: Reward) -> dict[str, Any]:
    return {
        "id": r.id, "name": r.name, "kind": r.kind.value, "pointsCost": r.points_cost,
        "value": str(r.value) if r.value is not None else None, "currency": r.currency,
        "productSku": r.product_sku, "tierGate": r.tier_gate, "stockTotal": r.stock_total,
        "perMemberLimit": r.per_member_limit,
        "activeFrom": r.active_from.isoformat() if r.active_from else None,
        "activeUntil": r.active_until.isoformat() if r.active_until else None,
        "active": r.active, "description": r.description, "imageUrl": r.image_url,
    }


def reward_from_dict(d: dict[str, Any]) -> Reward:
    return Reward(
        id=d["id"], name=d["name"], kind=RewardKind(d["kind"]), points_cost=int(d["pointsCost"]),
        value=Decimal(d["value"]) if d.get("value") is not None else None, currency=d.get("currency"),
        product_sku=d.get("productSku"), tier_gate=d.get("tierGate"), stock_total=d.get("stockTotal"),
        per_member_limit=d.get("perMemberLimit"),
        active_from=datetime.fromisoformat(d["activeFrom"]) if d.get("activeFrom") else None,
        active_until=datetime.fromisoformat(d["activeUntil"]) if d.get("activeUntil") else None,
        active=bool(d.get("active", True)), description=d.get("description") or "", image_url=d.get("imageUrl"),
    )


def tier_matters(reward: Reward, now: datetime, laddered: bool) -> bool:
    """Whether redeeming it depends on the member's tier: a gate, or (with a ladder, whose tiers may
    give early access) a reward that has not opened to everyone yet."""
    return bool(reward.tier_gate) or (laddered and reward.active_from is not None and now < reward.active_from)


def check_tier(reward: Reward, member_tier: str | None, ladder: Any = None) -> None:
    """A tier-gated reward is for members of that tier's rank or above (with a ladder: tiers by id, or
    by name for gates written before ladders); without a ladder the older exact match stays."""
    if not reward.tier_gate:
        return
    if ladder is not None:
        gate = ladder.by_id(reward.tier_gate) or next((t for t in ladder.tiers if t.name == reward.tier_gate), None)
        mine = ladder.by_id(member_tier) if member_tier else None
        if gate is None or (mine is not None and mine.rank >= gate.rank):
            return
        raise UserError(ErrorCode.TIER_REQUIRED, f"This reward is for {gate.name} members and above.", "rewardId")
    if member_tier != reward.tier_gate:
        raise UserError(ErrorCode.TIER_REQUIRED, f"This reward is for {reward.tier_gate} members.", "rewardId")
