"""Tier queries: the ladder (as the rewards catalog is readable) and the staff's period-end preview."""
from __future__ import annotations

import strawberry

from infra.tiers.staff import TierDesk
from resolvers.context import Info
from resolvers.nodes import query_key_for
from resolvers.permissions import CanReadCatalog, IsStaff
from resolvers.scalars import RefArg
from resolvers.tiers.types import Tier, TierLadder, TierPreview


@strawberry.type
class TierQueries:
    @strawberry.field(permission_classes=[CanReadCatalog],
                      description="The tier ladder in force: tiers, thresholds and benefits (null: no ladder). "
                                  "Readable as `programSummary` is.")
    def tier_ladder(self, info: Info) -> TierLadder | None:
        schedule = info.context.programs.program().tiers
        ladder = schedule.at(info.context.now())
        if ladder is None:
            return None
        return TierLadder.of(ladder, schedule.next_from if schedule.next is not None and ladder is schedule.current
                             else None)

    @strawberry.field(permission_classes=[IsStaff],
                      description="Staff: what the coming period end does to one member if nothing more qualifies.")
    def member_tier_preview(self, info: Info, member_id: RefArg) -> TierPreview:
        ctx = info.context
        p = TierDesk(ctx.require_tenant(), ctx.programs).preview(query_key_for(str(member_id), "Member", "memberId"),
                                                                  ctx.now())
        return TierPreview(period_ends_at=p.period_ends_at, qualifying=p.qualifying,
                           tier_now=Tier.of(p.tier_now) if p.tier_now else None,
                           tier_after=Tier.of(p.tier_after) if p.tier_after else None,
                           policy=p.policy, explanation=p.explanation)
