"""tierLadderSet (admin): the program's tier ladder. The first ladder applies at once; an edit applies
from the next period start, or at once with `applyFrom: NOW` (the recalculation job then re-records
every member's tier; entry points are never paid twice)."""
from __future__ import annotations

from typing import Annotated

import strawberry

from infra.tiers.ladder_store import ApplyFrom, save_ladder
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedProgram
from resolvers.permissions import IsAdmin
from resolvers.scalars import OptionalTextArg
from resolvers.tiers.inputs import TierLadderInput
from resolvers.tiers.types import TierLadder

TierLadderApply = strawberry.enum(ApplyFrom, name="TierLadderApply",
                                  description="When an edited ladder applies: from the next period start, or now "
                                              "(with a recalculation of every member).")


@strawberry.type(description="The ladder as saved: the one in force, and the edit waiting for the next period.")
class TierLadderSetPayload(ChangedProgram):
    ladder: TierLadder | None = None
    pending: TierLadder | None = strawberry.field(default=None, description="The edit, until it takes over.")
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(TierLadderSetPayload)
def tier_ladder_set(info: Info, input: TierLadderInput,
                    apply_from: Annotated[ApplyFrom, strawberry.argument(
                        description="Default NEXT_PERIOD: nobody is re-tiered by the edit itself.")]
                    = ApplyFrom.NEXT_PERIOD,
                    reason: OptionalTextArg = None) -> TierLadderSetPayload:
    ctx = info.context
    schedule = save_ladder(ctx.programs, input.to_domain(), apply_from, ctx.actor, ctx.now(), reason)
    program = ctx.programs.program()
    return TierLadderSetPayload(
        ladder=TierLadder.of(schedule.current, schedule.next_from) if schedule.current else None,
        pending=TierLadder.of(schedule.next) if schedule.next else None, changed_program=program)


field = strawberry.mutation(resolver=tier_ladder_set, permission_classes=[IsAdmin],
                            description="Admin: set the tier ladder (tiers, thresholds, benefits, period, policy).")
