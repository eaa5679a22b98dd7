"""lifecycleSettingsSet (admin): when members lapse, and the points of anniversaries and milestones; every
problem at once, audited."""
from __future__ import annotations

from dataclasses import replace

import strawberry

from domain.lifecycle.settings import LifecycleSettings
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.lifecycle.types import LifecycleSettingsView
from resolvers.partial import apply, updatable
from resolvers.permissions import IsAdmin
from resolvers.scalars import OptionalTextArg


@strawberry.input(description="Lifecycle settings to change; fields left out keep their value.")
class LifecycleSettingsInput:
    lapse_after_days: int | None = updatable(clearable=True, description="7 to 3,650 days; null: nobody lapses.")
    anniversary_points: int | None = updatable(clearable=False, description="0 to 1,000,000.")
    milestone_points: int | None = updatable(clearable=False, description="0 to 1,000,000.")


@strawberry.type(description="The lifecycle settings as saved.")
class LifecycleSettingsSetPayload:
    settings: LifecycleSettingsView | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(LifecycleSettingsSetPayload)
def lifecycle_settings_set(info: Info, input: LifecycleSettingsInput,
                           reason: OptionalTextArg = None) -> LifecycleSettingsSetPayload:
    ctx = info.context
    program = ctx.programs.program()
    settings = apply(program.lifecycle, input, validate=LifecycleSettings.validate)
    ctx.programs.save_program(replace(program, lifecycle=settings), ctx.actor, ctx.now(), reason,
                              action="lifecycle.settings_set",
                              describe=lambda before, after: {"before": before.lifecycle.to_dict(),
                                                              "after": after.lifecycle.to_dict()})
    return LifecycleSettingsSetPayload(settings=LifecycleSettingsView.of(settings))


field = strawberry.mutation(resolver=lifecycle_settings_set, permission_classes=[IsAdmin], description=(
    "Admins: after how many days without qualifying activity members are marked lapsed (the due day follows "
    "each member's last activity), and the points of anniversaries and order milestones."))
