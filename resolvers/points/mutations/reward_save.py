"""rewardSave (admin): create or change a reward in the catalog."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.points import rewards as rules
from domain import bounds
from resolvers.scalars import bounded
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.permissions import IsAdmin
from resolvers.points.types import Reward, RewardKind


@strawberry.input
class RewardInput:
    id: strawberry.ID = strawberry.field(description="A slug such as `free-shipping`; saving it again changes it.")
    name: str = bounded(bounds.LABEL)
    kind: RewardKind
    points_cost: int
    description: str = bounded(bounds.TEXT, default="")
    value: Decimal | None = None
    currency: str | None = bounded(bounds.CURRENCY, default=None)
    product_sku: str | None = bounded(bounds.LABEL, default=None)
    tier_gate: str | None = bounded(bounds.LABEL, default=None)
    stock_total: int | None = None
    per_member_limit: int | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None
    active: bool = True


@strawberry.type
class RewardSavePayload:
    reward: Reward | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(RewardSavePayload)
def reward_save(info: Info, input: RewardInput) -> RewardSavePayload:
    ctx = info.context
    reward = rules.validate_reward(rules.Reward(
        id=str(input.id), name=input.name.strip(), kind=input.kind, points_cost=input.points_cost, value=input.value,
        currency=input.currency, product_sku=input.product_sku,
        tier_gate=input.tier_gate, stock_total=input.stock_total, per_member_limit=input.per_member_limit,
        active_from=input.active_from, active_until=input.active_until,
        active=input.active, description=input.description))
    return RewardSavePayload(reward=Reward.of(ctx.programs.save_reward(reward, ctx.actor, ctx.now())))


field = strawberry.mutation(resolver=reward_save, permission_classes=[IsAdmin],
                            description="Admin: create or change a reward.")
