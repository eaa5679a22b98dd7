"""Points queries: the program (staff) and what a storefront shows of it, the rewards catalog, coupon checks
(storefront), the audit trail."""
from __future__ import annotations

import strawberry

from infra.audit import AuditTrail
from resolvers.scalars import CodeArg
from resolvers.context import Info
from resolvers.nodes import read
from resolvers.pagination import Connection, connection
from resolvers.permissions import CanReadCatalog, IsAdmin, IsService, IsStaff
from resolvers.points.types import (PROGRAM_KEY, AuditRecord, Program, ProgramSummary, Redemption, Reward,
                                    reward_catalog)


@strawberry.type
class PointsQueries:
    @strawberry.field(permission_classes=[IsStaff], description="Staff: the points program's configuration.")
    def program(self, info: Info) -> Program:
        return Program.of(info.context.programs.program())

    @strawberry.field(permission_classes=[CanReadCatalog],
                      description="What a storefront shows: earn rates, ways to earn, the rewards. Members, staff and "
                                  "the order system; without a token when the program is public (else null, with "
                                  "an UNAUTHENTICATED error, and the request's other fields still answered).")
    def program_summary(self, info: Info) -> ProgramSummary | None:
        return read(info, ProgramSummary, PROGRAM_KEY)  # the permission above is the summary's own read rule

    @strawberry.field(permission_classes=[CanReadCatalog],
                      description="The rewards catalog, cheapest first: what can be redeemed now. Staff may include "
                                  "inactive ones. Readable as `programSummary` is (else null, with an error).")
    def rewards(self, info: Info, first: int | None = None, after: str | None = None,
                include_inactive: bool = False) -> Connection[Reward] | None:
        return reward_catalog(info, first, after, include_inactive)

    @strawberry.field(permission_classes=[IsService], description="Storefront: look up a coupon before checkout.")
    def coupon_validate(self, info: Info, code: CodeArg) -> Redemption | None:
        ctx = info.context
        coupon = ctx.rewards.coupon(code)
        return Redemption.of(ctx.rewards.validate(code, ctx.now())) if coupon else None

    @strawberry.field(permission_classes=[IsAdmin], description="Admin: every staff change, newest first.")
    def audit_trail(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[AuditRecord]:
        return connection(info, first, after, AuditTrail(info.context.require_tenant()).list, AuditRecord.of)
