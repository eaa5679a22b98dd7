"""programUpdate (admin): change the points program; audited."""
from __future__ import annotations

import strawberry

from resolvers.scalars import OptionalTextArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedProgram
from resolvers.permissions import IsAdmin
from resolvers.points.inputs import ProgramInput
from resolvers.points.types import Program, describe_program


@strawberry.type(description="The program as saved, and what a storefront now shows of it.")
class ProgramUpdatePayload(ChangedProgram):
    program: Program | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(ProgramUpdatePayload)
def program_update(info: Info, input: ProgramInput, reason: OptionalTextArg = None) -> ProgramUpdatePayload:
    ctx = info.context
    store = ctx.programs
    saved = store.save_program(input.applied_to(store.program()), ctx.actor, ctx.now(), reason,
                               describe=describe_program)
    return ProgramUpdatePayload(program=Program.of(saved), changed_program=saved)


field = strawberry.mutation(
    resolver=program_update, permission_classes=[IsAdmin],
    description="Admin: change earn rates, multipliers, campaigns, rules and policies. Fields left out keep their "
                "values; null clears those that can be cleared. Audited with the fields' values before and after.")
