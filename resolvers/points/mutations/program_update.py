"""programUpdate (admin): change the points program; audited."""
from __future__ import annotations

import strawberry

from resolvers.scalars import OptionalTextArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.permissions import IsAdmin
from resolvers.points.inputs import ProgramInput
from resolvers.points.types import Program


@strawberry.type
class ProgramUpdatePayload:
    program: Program | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(ProgramUpdatePayload)
def program_update(info: Info, input: ProgramInput, reason: OptionalTextArg = None) -> ProgramUpdatePayload:
    ctx = info.context
    store = ctx.programs
    saved = store.save_program(input.applied_to(store.program()), ctx.actor, ctx.now(), reason)
    return ProgramUpdatePayload(program=Program.of(saved))


field = strawberry.mutation(resolver=program_update, permission_classes=[IsAdmin],
                            description="Admin: change earn rates, multipliers, campaigns, rules and policies.")
