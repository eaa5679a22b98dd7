"""orderRecord / orderDeliver (order system): credit a paid order once; start its return window at delivery."""
from __future__ import annotations

from datetime import datetime

import strawberry

from infra.points.orders import OrderOutcome as OutcomeRule
from infra.points.orders import OrderResult

from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsService
from resolvers.points.inputs import OrderInput

OrderOutcome = strawberry.enum(OutcomeRule, description="What recording the order did.")


@strawberry.type(description="What recording the order did, and its member when the order is a member's (readable "
                             "by callers who may read members; the order system itself gets `memberId` and `points`).")
class OrderRecordPayload(ChangedMember):
    outcome: OrderOutcome | None = None
    order_id: strawberry.ID | None = None
    member_id: strawberry.ID | None = strawberry.field(default=None, description="The member's own id, when known.")
    points: int = 0
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, r: OrderResult) -> "OrderRecordPayload":
        return cls(outcome=r.outcome, order_id=strawberry.ID(r.order_id),
                   member_id=strawberry.ID(r.member_id) if r.member_id else None, points=r.points,
                   changed_member=r.member_id or None)


@payload_errors(OrderRecordPayload)
def order_record(info: Info, input: OrderInput) -> OrderRecordPayload:
    ctx = info.context
    return OrderRecordPayload.of(ctx.orders.record(input.to_domain(), ctx.now()))


@payload_errors(OrderRecordPayload)
def order_deliver(info: Info, order_id: strawberry.ID, delivered_at: datetime) -> OrderRecordPayload:
    ctx = info.context
    return OrderRecordPayload.of(ctx.orders.deliver(order_id, delivered_at))


field = strawberry.mutation(resolver=order_record, permission_classes=[IsService],
                            description="Order system: a paid order. Credits pending points once, however often sent.")
deliver_field = strawberry.mutation(resolver=order_deliver, permission_classes=[IsService],
                                    description="Order system: the order was delivered; the return window starts now.")
