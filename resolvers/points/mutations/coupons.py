"""couponConsume (storefront) and redemptionCancel (member, staff or storefront)."""
from __future__ import annotations

import strawberry

from domain.access import Kind
from resolvers.scalars import CodeArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedMember, ChangedReward
from resolvers.permissions import IsService, Requires
from resolvers.points.types import Redemption


class CanCancelRedemption(Requires):
    def allowed(self, principal) -> bool:
        return principal.kind in (Kind.MEMBER, Kind.SERVICE) or principal.is_staff()


@strawberry.type(description="The coupon as the change left it, with its member (points back after a cancel) and "
                             "reward (stock back).")
class CouponPayload(ChangedMember, ChangedReward):
    redemption: Redemption | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, r: Redemption) -> "CouponPayload":
        return cls(redemption=r, changed_member=str(r.member_id), changed_reward=str(r.reward.reward_id))


@payload_errors(CouponPayload)
def coupon_consume(info: Info, code: CodeArg, order_id: strawberry.ID) -> CouponPayload:
    ctx = info.context
    return CouponPayload.of(Redemption.of(ctx.rewards.consume(code, str(order_id), ctx.now())))


@payload_errors(CouponPayload)
def redemption_cancel(info: Info, code: CodeArg) -> CouponPayload:
    ctx = info.context
    # A member may cancel only their own coupon; to them another member's code does not exist.
    r = ctx.rewards.cancel(code, ctx.now(), member_id=ctx.principal.member_id)
    return CouponPayload.of(Redemption.of(r))


consume_field = strawberry.mutation(resolver=coupon_consume, permission_classes=[IsService],
                                    description="Storefront: the coupon was used on an order. Works once.")
cancel_field = strawberry.mutation(resolver=redemption_cancel, permission_classes=[CanCancelRedemption],
                                   description="Cancel an unused coupon: its points come back.")
