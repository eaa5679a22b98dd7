"""The program's lifecycle settings (`Program.lifecycle`, edited with `lifecycleSettingsSet`):

- `lapse_after_days`: a member with no qualifying activity (points earned) for this many days is marked
  lapsed, for win-back (MemberLapsed); None (the default) marks nobody. Members are never deleted for
  inactivity. The due day is set from the value in force at the member's last activity.
- `anniversary_points`: credited on each membership anniversary (AnniversaryReward), 0 for the event alone.
- `milestone_points`: credited at each order milestone (the 1st, 10th, 25th, 50th, 100th order), 0 for
  the event alone (MilestoneReached).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import ErrorCode, UserError, collect
from domain.lifecycle.lapse import MAX_LAPSE_DAYS, MIN_LAPSE_DAYS

MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class LifecycleSettings:
    lapse_after_days: int | None = None
    anniversary_points: int = 0
    milestone_points: int = 0

    def validate(self) -> "LifecycleSettings":
        collect(
            None if self.lapse_after_days is None or MIN_LAPSE_DAYS <= self.lapse_after_days <= MAX_LAPSE_DAYS
            else UserError(ErrorCode.OUT_OF_RANGE, f"Members lapse after {MIN_LAPSE_DAYS} to {MAX_LAPSE_DAYS} days, "
                                                   "or never.", "lapseAfterDays"),
            None if 0 <= self.anniversary_points <= MAX_POINTS else UserError(
                ErrorCode.OUT_OF_RANGE, f"Anniversary points are 0 to {MAX_POINTS:,}.", "anniversaryPoints"),
            None if 0 <= self.milestone_points <= MAX_POINTS else UserError(
                ErrorCode.OUT_OF_RANGE, f"Milestone points are 0 to {MAX_POINTS:,}.", "milestonePoints"),
        )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"lapseAfterDays": self.lapse_after_days, "anniversaryPoints": self.anniversary_points,
                "milestonePoints": self.milestone_points}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "LifecycleSettings":
        d = d or {}
        lapse = d.get("lapseAfterDays")
        return cls(lapse_after_days=int(lapse) if lapse is not None else None,
                   anniversary_points=int(d.get("anniversaryPoints", 0)),
                   milestone_points=int(d.get("milestonePoints", 0)))
