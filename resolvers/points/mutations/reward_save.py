"""rewardSave (admin): create a reward, or change one: absent fields keep their values, null clears."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain import bounds
from domain.errors import ErrorCode, UserError
from domain.points import rewards as rules
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.partial import apply, given, updatable
from resolvers.payloads import ChangedReward
from resolvers.permissions import IsAdmin
from resolvers.points.types import RewardKind, describe_reward
from resolvers.scalars import bounded

REQUIRED_TO_CREATE = (("name", "name"), ("kind", "kind"), ("points_cost", "pointsCost"))


@strawberry.input(description="A reward to create or change. Creating one needs `name`, `kind` and `pointsCost`. "
                              "When changing one, a field left out keeps its value and null clears it where the field "
                              "says it can be cleared.")
class RewardInput:
    id: strawberry.ID = bounded(bounds.REFERENCE, description="The reward's own id, a slug such as `free-shipping`: "
                                                              "saving it again changes that reward.")
    name: str | None = updatable(clearable=False, bound=bounds.LABEL)
    kind: RewardKind | None = updatable(clearable=False)
    points_cost: int | None = updatable(clearable=False)
    description: str | None = updatable(clearable=True, bound=bounds.TEXT)
    value: Decimal | None = updatable(clearable=True, description="Amount off (in `currency`) or percent off.")
    currency: str | None = updatable(clearable=True, bound=bounds.CURRENCY)
    product_sku: str | None = updatable(clearable=True, bound=bounds.LABEL)
    image_url: str | None = updatable(clearable=True, bound=bounds.URL, description="The reward's image.")
    requires_tier: str | None = updatable(clearable=True, bound=bounds.LABEL,
                                          description="Only members of this tier may redeem it.")
    stock_total: int | None = updatable(clearable=True, description="Units to issue; saving a new total resets what "
                                                                     "is left to it. Null: unlimited.")
    per_member_limit: int | None = updatable(clearable=True)
    starts_at: datetime | None = updatable(clearable=True, description="Redeemable from then on.")
    ends_at: datetime | None = updatable(clearable=True, description="Redeemable until just before then.")
    active: bool | None = updatable(clearable=False, description="Switched on (a new reward is, unless this says "
                                                                 "false).")
    tier_gate: str | None = bounded(bounds.LABEL, default=strawberry.UNSET, deprecation_reason="Use `requiresTier`.")
    active_from: datetime | None = strawberry.field(default=strawberry.UNSET, deprecation_reason="Use `startsAt`.")
    active_until: datetime | None = strawberry.field(default=strawberry.UNSET, deprecation_reason="Use `endsAt`.")


DEPRECATED = {"tier_gate": "requires_tier", "active_from": "starts_at", "active_until": "ends_at"}


@strawberry.type(description="The reward as saved (its stock left read from it).")
class RewardSavePayload(ChangedReward):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(RewardSavePayload)
def reward_save(info: Info, input: RewardInput) -> RewardSavePayload:
    ctx = info.context
    slug = key_for(str(input.id), "Reward", "id")
    existing = ctx.programs.fresh_reward(slug)
    if existing is None:
        base = rules.Reward(id=slug, name="", kind=rules.RewardKind.CUSTOM, points_cost=0)
        missing = [UserError(ErrorCode.REQUIRED, f"A new reward needs `{name}`.", name)
                   for attr, name in REQUIRED_TO_CREATE if not given(getattr(input, attr))]
    else:
        base, missing = existing.reward, []
    reward = apply(base, input, extra=missing, validate=rules.validate_reward, skip={"id"}, aliases=DEPRECATED,
                   convert={"name": str.strip},
                   target={"requires_tier": "tier_gate", "starts_at": "active_from", "ends_at": "active_until"},
                   cleared={"description": ""})
    ctx.programs.save_reward(reward, ctx.actor, ctx.now(), describe=describe_reward, existing=existing)
    return RewardSavePayload(changed_reward=slug)


field = strawberry.mutation(resolver=reward_save, permission_classes=[IsAdmin],
                            description="Admin: create or change a reward. Audited with the fields' values before "
                                        "and after.")
