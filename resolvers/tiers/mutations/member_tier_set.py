"""memberTierSet / memberTierClear (admin): a member's tier set by staff, with a reason, audited and in
the member's tier history. The mode is explicit: a FLOOR lets qualification lift the member higher, an
OVERRIDE holds exactly this tier; either may end on a date (`until`), after which qualification rules."""
from __future__ import annotations

from datetime import datetime

import strawberry

from infra.tiers.staff import TierDesk
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsAdmin
from resolvers.scalars import RefArg, TextArg
from resolvers.tiers.types import ManualTierMode


@strawberry.type(description="The member with their tier as set.")
class MemberTierSetPayload(ChangedMember):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


def _desk(info: Info) -> TierDesk:
    return TierDesk(info.context.require_tenant(), info.context.programs)


@payload_errors(MemberTierSetPayload)
def member_tier_set(info: Info, member_id: RefArg, tier_id: RefArg, mode: ManualTierMode, reason: TextArg,
                    until: datetime | None = None) -> MemberTierSetPayload:
    ctx = info.context
    member = key_for(str(member_id), "Member", "memberId")
    tier = key_for(str(tier_id), "Tier", "tierId")
    _desk(info).set_manual(member, tier, mode, until, reason, ctx.actor, ctx.now())
    return MemberTierSetPayload(changed_member=member)


@payload_errors(MemberTierSetPayload)
def member_tier_clear(info: Info, member_id: RefArg, reason: TextArg) -> MemberTierSetPayload:
    ctx = info.context
    member = key_for(str(member_id), "Member", "memberId")
    _desk(info).set_manual(member, None, None, None, reason, ctx.actor, ctx.now())
    return MemberTierSetPayload(changed_member=member)


set_field = strawberry.mutation(resolver=member_tier_set, permission_classes=[IsAdmin],
                                description="Admin: set a member's tier as a FLOOR or an OVERRIDE, until a date or "
                                            "until cleared, with a reason.")
clear_field = strawberry.mutation(resolver=member_tier_clear, permission_classes=[IsAdmin],
                                  description="Admin: remove a member's staff tier; qualification rules again.")
