"""orderReturnRecord (order system): refunds, exchanges, warranty exchanges and store credit, each checked
against what is left of the order's lines."""
from __future__ import annotations

import strawberry

from domain.points.orders import ReturnRefused
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors, to_user_errors
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsService
from resolvers.points.returns_types import OrderLineRemaining, OrderReturnInput


@strawberry.type(description="What the return did, what is left of each line of the order, and the member whose "
                             "points it changed (readable by callers who may read members).")
class OrderReturnPayload(ChangedMember):
    order_id: strawberry.ID | None = None
    points_reversed: int = 0
    bonus_points: int = 0
    duplicate: bool = False
    remaining: list[OrderLineRemaining] | None = strawberry.field(
        default=None, description="Every line of the order and what is left of it after this return (after a "
                                  "refused one: as it stands; after a repeat: as it is now). Null when the order is "
                                  "not known. No query reads an order: this is how the order system learns what "
                                  "it may still return.")
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(OrderReturnPayload)
def order_return_record(info: Info, input: OrderReturnInput) -> OrderReturnPayload:
    ctx = info.context
    try:
        r = ctx.orders.process_return(input.to_domain(), ctx.now())
    except ReturnRefused as refused:
        # Nothing was written; what is left of each line tells the order system what would fit.
        return OrderReturnPayload(order_id=strawberry.ID(input.order_id), remaining=OrderLineRemaining.of_lines(
            refused.lines), user_errors=to_user_errors(refused))
    return OrderReturnPayload(order_id=strawberry.ID(r.order_id), points_reversed=r.points_reversed,
                              bonus_points=r.bonus_points, duplicate=r.duplicate,
                              remaining=OrderLineRemaining.of_lines(r.lines), changed_member=r.member_id or None)


field = strawberry.mutation(
    resolver=order_return_record, permission_classes=[IsService],
    description="Order system: a return of some of an order's lines. Each line is checked against what is left of "
                "it (units and money not refunded yet): a return asking more than that, naming a line the order "
                "does not have, or of an unknown order is refused with every problem in `userErrors` "
                "(`lines.<i>.amount`, `lines.<i>.quantity`, `lines.<i>.lineItemId`, `orderId`) and writes "
                "nothing. Partial refunds add up until the line is used up. A refund takes back the line's points "
                "in proportion to the money (all of them once it adds up to what was paid for the line); an "
                "exchange keeps them and may earn a bonus; store credit keeps or reverses, by setting. Applied "
                "once per `returnId`. `remaining` in the payload says what is left of every line, also when "
                "refused.")
