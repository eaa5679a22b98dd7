"""orderAssign (admin): credit a guest order waiting for an email to a member, with a reason; audited."""
from __future__ import annotations

import strawberry

from domain.errors import ErrorCode, UserError
from infra.audit import audit_entry
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.members.queries import load_member
from resolvers.members.types import Member
from resolvers.permissions import IsAdmin
from resolvers.points.mutations.order_record import OrderOutcome
from resolvers.scalars import TextArg


@strawberry.type
class OrderAssignPayload:
    outcome: OrderOutcome | None = None
    order_id: strawberry.ID | None = None
    points: int = 0
    member: Member | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(OrderAssignPayload)
def order_assign(info: Info, order_id: strawberry.ID, member_id: strawberry.ID, reason: TextArg) -> OrderAssignPayload:
    ctx = info.context
    if not reason.strip():
        raise UserError(ErrorCode.REQUIRED, "Say why this order belongs to this member.", "reason")
    now = ctx.now()
    audit = audit_entry(ctx.require_tenant(), ctx.actor, "order.assign", now, member_id=member_id,
                        detail={"orderId": order_id}, reason=reason.strip())
    result = ctx.orders.assign(order_id, member_id, now, audit)
    ctx.forget_member(member_id)
    return OrderAssignPayload(outcome=result.outcome, order_id=strawberry.ID(result.order_id), points=result.points,
                              member=load_member(info, member_id))


field = strawberry.mutation(
    resolver=order_assign, permission_classes=[IsAdmin],
    description="Admin: credit a guest order (held until its email enrolls) to a member who proved it is theirs "
                "another way. Audited; the order's points are credited once, as for any order.")
