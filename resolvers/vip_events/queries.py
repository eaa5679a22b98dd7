"""VIP events: the listing and one event."""
from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.nodes import query_key_for
from resolvers.pagination import Connection
from resolvers.permissions import IsStaff
from resolvers.scalars import RefArg
from resolvers.vip_events.settings import VipEventSettingsView
from resolvers.vip_events.types import VipEvent, vip_event, vip_events


@strawberry.type
class VipEventQueries:
    @strawberry.field(description="Upcoming VIP events by start, at most 30 a page. A member sees every event with "
                                  "`eligibility` and `myRegistration`; staff see every event; a caller without a "
                                  "token only the `public` ones. One read of the table per page.")
    def vip_events(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[VipEvent]:
        info.context.require_tenant()
        return vip_events(info, first, after)

    @strawberry.field(description="One event by its `id` or own id; null when there is none or the caller may not "
                                  "see it.")
    def vip_event(self, info: Info, id: RefArg) -> VipEvent | None:
        return vip_event(info, query_key_for(str(id), "VipEvent", "id"))

    @strawberry.field(permission_classes=[IsStaff], description="Staff: what a no-show costs across events "
                                                                "(set with `vipEventSettingsSet`).")
    def vip_event_settings(self, info: Info) -> VipEventSettingsView:
        return VipEventSettingsView.of(info.context.programs.program().vip_events)
