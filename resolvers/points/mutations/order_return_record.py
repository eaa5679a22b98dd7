"""orderReturnRecord (order system): refunds, exchanges, warranty exchanges and store credit."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.permissions import IsService
from resolvers.points.inputs import OrderReturnInput


@strawberry.type
class OrderReturnPayload:
    order_id: strawberry.ID | None = None
    points_reversed: int = 0
    bonus_points: int = 0
    duplicate: bool = False
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(OrderReturnPayload)
def order_return_record(info: Info, input: OrderReturnInput) -> OrderReturnPayload:
    ctx = info.context
    r = ctx.orders.process_return(input.to_domain(), ctx.now())
    return OrderReturnPayload(order_id=strawberry.ID(r.order_id), points_reversed=r.points_reversed,
                              bonus_points=r.bonus_points, duplicate=r.duplicate)


field = strawberry.mutation(resolver=order_return_record, permission_classes=[IsService],
                            description="Order system: a return. Refunds reverse the refunded lines' points.")
