"""rewardRedeem (member): spend points on a reward and get a coupon code; safe to retry with a key."""
from __future__ import annotations

import strawberry

from infra.tiers.standing import member_standing

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
    tier, early = None, 0
    cached = ctx.programs.reward(slug)
    program, now = ctx.programs.program(), ctx.now()
    reward = cached.reward if cached else None
    gated = reward is not None and bool(reward.tier_gate)
    early_matters = reward is not None and reward.active_from is not None and now < reward.active_from
    if gated or (early_matters and program.tiers.at(now) is not None):
        # The tier (for the gate, or for early access before the reward opens) is read from the profile.
        profile = ctx.members.get_profile(member_id)
        standing = member_standing(profile, program, now) if profile else None
        if standing is not None:
            tier = standing.tier.id if standing.tier else None
            early = standing.tier.early_access_hours() if standing.tier else 0
        else:
            tier = profile.tier if profile else None
    r = ctx.rewards.redeem(member_id, slug, now, key, tier, early)
    return RewardRedeemPayload(redemption=Redemption.of(r), changed_member=member_id, changed_reward=slug)


field = strawberry.mutation(
    resolver=reward_redeem, permission_classes=[IsMember],
    description="Redeem a reward (`rewardId`: its `id` or its own id). The same idempotency key (argument or "
                "Idempotency-Key header) and input return the same redemption. Outside the reward's window "
                "(`startsAt`/`endsAt`) or while it is switched off: `NOT_AVAILABLE`.")
