"""Points queries: the program (staff), the rewards catalog, coupon checks (storefront), the audit trail."""
from __future__ import annotations

import strawberry

from infra.audit import AuditTrail
from resolvers.scalars import CodeArg
from resolvers.context import Info
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsAdmin, IsService, IsStaff
from resolvers.points.types import AuditRecord, Program, Redemption, Reward


@strawberry.type
class PointsQueries:
    @strawberry.field(permission_classes=[IsStaff], description="Staff: the points program's configuration.")
    def program(self, info: Info) -> Program:
        return Program.of(info.context.programs.program())

    @strawberry.field(description="The rewards catalog: what can be redeemed now. Staff may include inactive ones.")
    def rewards(self, info: Info, include_inactive: bool = False) -> list[Reward]:
        ctx = info.context
        everything = ctx.programs.rewards()
        if include_inactive and ctx.principal.is_staff():
            return [Reward.of(r) for r in everything]
        now = ctx.now()
        return [Reward.of(r) for r in everything if r.available_at(now)]

    @strawberry.field(permission_classes=[IsService], description="Storefront: look up a coupon before checkout.")
    def coupon_validate(self, info: Info, code: CodeArg) -> Redemption | None:
        ctx = info.context
        coupon = ctx.rewards.coupon(code)
        return Redemption.of(ctx.rewards.validate(code, ctx.now())) if coupon else None

    @strawberry.field(permission_classes=[IsAdmin], description="Admin: every staff change, newest first.")
    def audit_trail(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[AuditRecord]:
        return connection(info, first, after, AuditTrail(info.context.require_tenant()).list, AuditRecord.of)
