"""What staff see of the lifecycle: its settings and the lapsed members."""
from __future__ import annotations

from datetime import datetime

import strawberry

from domain.lifecycle.settings import LifecycleSettings
from infra.lifecycle.standing import LapsedMember as LapsedRule
from resolvers.context import Info
from resolvers.members.types import Member
from resolvers.nodes import read

EMBEDDED = "An embedded value of its parent: it has no id and is always answered whole with the parent."


@strawberry.type(description=f"The program's lifecycle settings. {EMBEDDED}")
class LifecycleSettingsView:
    lapse_after_days: int | None = strawberry.field(description=(
        "Days without qualifying activity (points earned for an order or an action) after which a member is "
        "marked lapsed, for win-back; null: nobody is."))
    anniversary_points: int
    milestone_points: int

    @classmethod
    def of(cls, s: LifecycleSettings) -> "LifecycleSettingsView":
        return cls(lapse_after_days=s.lapse_after_days, anniversary_points=s.anniversary_points,
                   milestone_points=s.milestone_points)


@strawberry.type(description=f"A member marked lapsed, for win-back. {EMBEDDED}")
class LapsedMember:
    member_id: strawberry.ID
    lapsed_at: datetime
    last_activity_at: datetime

    @strawberry.field(description="The member (staff read every member).")
    def member(self, info: Info) -> Member | None:
        return read(info, Member, str(self.member_id))

    @classmethod
    def of(cls, m: LapsedRule) -> "LapsedMember":
        return cls(member_id=strawberry.ID(m.member_id), lapsed_at=m.lapsed_at, last_activity_at=m.last_activity_at)

