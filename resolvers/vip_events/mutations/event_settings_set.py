"""vipEventSettingsSet (admin): what a no-show costs across events; every problem at once, audited."""
from __future__ import annotations

from dataclasses import replace

import strawberry

from domain.vip_events.settings import VipEventSettings
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.partial import apply, updatable
from resolvers.permissions import IsAdmin
from resolvers.scalars import OptionalTextArg
from resolvers.vip_events.settings import VipEventSettingsView

@strawberry.input(description="VIP event settings to change; fields left out keep their value.")
class VipEventSettingsInput:
    forfeit_no_show_points: bool | None = updatable(clearable=False)
    no_show_limit: int | None = updatable(clearable=True, description="1 to 100.")
    no_show_window_days: int | None = updatable(clearable=False, description="1 to 3,660.")
    no_show_block_days: int | None = updatable(clearable=False, description="1 to 3,660.")


@strawberry.type(description="The VIP event settings as saved.")
class VipEventSettingsSetPayload:
    settings: VipEventSettingsView | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(VipEventSettingsSetPayload)
def vip_event_settings_set(info: Info, input: VipEventSettingsInput,
                           reason: OptionalTextArg = None) -> VipEventSettingsSetPayload:
    ctx = info.context
    program = ctx.programs.program()
    settings = apply(program.vip_events, input, validate=VipEventSettings.validate)
    ctx.programs.save_program(replace(program, vip_events=settings), ctx.actor, ctx.now(), reason,
                              action="vip_events.settings_set",
                              describe=lambda before, after: {"before": before.vip_events.to_dict(),
                                                              "after": after.vip_events.to_dict()})
    return VipEventSettingsSetPayload(settings=VipEventSettingsView.of(settings))


field = strawberry.mutation(resolver=vip_event_settings_set, permission_classes=[IsAdmin],
                            description="Admins: what a no-show costs (the points cost kept or refunded) and when "
                                        "no-shows block new registrations.")
