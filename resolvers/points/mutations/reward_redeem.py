"""rewardRedeem (member): spend points on a reward and get a coupon code; safe to retry with a key."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.payloads import ChangedMember, ChangedReward
from resolvers.permissions import IsMember
from resolvers.scalars import OptionalKeyArg, RefArg
from resolvers.points.types import Redemption


@strawberry.type(description="The coupon, and the member and reward it changed (new points, stock left).")
class RewardRedeemPayload(ChangedMember, ChangedReward):
    redemption: Redemption | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(RewardRedeemPayload)
def reward_redeem(info: Info, reward_id: RefArg, idempotency_key: OptionalKeyArg = None) -> RewardRedeemPayload:
    ctx = info.context
    key = idempotency_key or ctx.idempotency_key
    member_id = ctx.principal.member_id
    assert member_id is not None
    slug = key_for(str(reward_id), "Reward", "rewardId")
    r = ctx.rewards.redeem(member_id, slug, ctx.now(), key)
    return RewardRedeemPayload(redemption=Redemption.of(r), changed_member=member_id, changed_reward=slug)


field = strawberry.mutation(
    resolver=reward_redeem, permission_classes=[IsMember],
    description="Redeem a reward (`rewardId`: its `id` or its own id). The same idempotency key (argument or "
                "Idempotency-Key header) and input return the same redemption. Outside the reward's window "
                "(`startsAt`/`endsAt`) or while it is switched off: `NOT_AVAILABLE`.")
