"""The program's VIP event settings as staff read them (`vipEventSettings`) and as `vipEventSettingsSet` answers."""
from __future__ import annotations

import strawberry

from domain.vip_events.settings import VipEventSettings

EMBEDDED = "An embedded value of its parent: it has no id and is always answered whole with the parent."


@strawberry.type(description=f"The program's VIP event settings. {EMBEDDED}")
class VipEventSettingsView:
    forfeit_no_show_points: bool = strawberry.field(
        description="True: a confirmed member who never checked in keeps nothing of the points cost; false: the "
                    "no-show job refunds it.")
    no_show_limit: int | None = strawberry.field(
        description="No-shows within `noShowWindowDays` that block new registrations for `noShowBlockDays`; "
                    "null: never blocked.")
    no_show_window_days: int
    no_show_block_days: int

    @classmethod
    def of(cls, s: VipEventSettings) -> "VipEventSettingsView":
        return cls(forfeit_no_show_points=s.forfeit_no_show_points, no_show_limit=s.no_show_limit,
                   no_show_window_days=s.no_show_window_days, no_show_block_days=s.no_show_block_days)
