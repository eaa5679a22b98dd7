"""rewardRedeem (member): spend points on a reward and get a coupon code; safe to retry with a key."""
from __future__ import annotations

import strawberry


from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.permissions import IsMember
from resolvers.scalars import OptionalKeyArg
from resolvers.points.types import Redemption


@strawberry.type
class RewardRedeemPayload:
    redemption: Redemption | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(RewardRedeemPayload)
def reward_redeem(info: Info, reward_id: strawberry.ID, idempotency_key: OptionalKeyArg = None) -> RewardRedeemPayload:
    ctx = info.context
    key = idempotency_key or ctx.idempotency_key
    member_id = ctx.principal.member_id
    assert member_id is not None
    tier = None
    cached = ctx.programs.reward(str(reward_id))
    if cached and cached.reward.tier_gate:
        member = ctx.members.get(member_id)
        tier = member.tier if member else None
    r = ctx.rewards.redeem(member_id, str(reward_id), ctx.now(), key, tier)
    return RewardRedeemPayload(redemption=Redemption.of(r))


field = strawberry.mutation(resolver=reward_redeem, permission_classes=[IsMember],
                            description="Redeem a reward. The same idempotency key (argument or Idempotency-Key "
                                        "header) and input return the same redemption.")
