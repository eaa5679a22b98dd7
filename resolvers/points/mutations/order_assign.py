"""orderAssign (admin): credit a guest order waiting for an email to a member, with a reason; audited."""
from __future__ import annotations

import strawberry

from domain.errors import ErrorCode, UserError
from infra.audit import audit_entry
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsAdmin
from resolvers.points.mutations.order_record import OrderOutcome
from resolvers.scalars import RefArg, TextArg


@strawberry.type(description="What crediting the order did, and the member with their new points.")
class OrderAssignPayload(ChangedMember):
    outcome: OrderOutcome | None = None
    order_id: strawberry.ID | None = None
    points: int = 0
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(OrderAssignPayload)
def order_assign(info: Info, order_id: strawberry.ID, member_id: RefArg, reason: TextArg) -> OrderAssignPayload:
    ctx = info.context
    member = key_for(str(member_id), "Member", "memberId")
    if not reason.strip():
        raise UserError(ErrorCode.REQUIRED, "Say why this order belongs to this member.", "reason")
    now = ctx.now()
    audit = audit_entry(ctx.require_tenant(), ctx.actor, "order.assign", now, member_id=member,
                        detail={"orderId": order_id}, reason=reason.strip())
    result = ctx.orders.assign(order_id, member, now, audit)
    return OrderAssignPayload(outcome=result.outcome, order_id=strawberry.ID(result.order_id), points=result.points,
                              changed_member=member)


field = strawberry.mutation(
    resolver=order_assign, permission_classes=[IsAdmin],
    description="Admin: credit a guest order (held until its email enrolls) to a member who proved it is theirs "
                "another way. Audited; the order's points are credited once, as for any order.")
