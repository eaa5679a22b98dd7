"""The program's settings for VIP events that hold across events: what a no-show costs. Stored in the
program (`Program.vip_events`), edited with `vipEventSettingsSet`.

- `forfeit_no_show_points`: a confirmed member who never checked in keeps nothing of the points cost
  (True, the default) or gets it back when the no-show job marks them (False).
- `no_show_limit` / `no_show_window_days` / `no_show_block_days`: counting no-shows against future
  registrations. When a member reaches `no_show_limit` no-shows within the last `no_show_window_days`,
  they may not register for `no_show_block_days` (registration checks `VIPSTATS.blockedUntil`).
  No limit (None, the default): no-shows are counted, nobody is blocked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import ErrorCode, UserError, collect

MAX_LIMIT = 100
MAX_DAYS = 3660


@dataclass(frozen=True)
class VipEventSettings:
    forfeit_no_show_points: bool = True
    no_show_limit: int | None = None
    no_show_window_days: int = 180
    no_show_block_days: int = 90

    def validate(self) -> "VipEventSettings":
        collect(
            None if self.no_show_limit is None or 1 <= self.no_show_limit <= MAX_LIMIT else UserError(
                ErrorCode.OUT_OF_RANGE, f"The no-show limit is 1 to {MAX_LIMIT}, or none.", "noShowLimit"),
            None if 1 <= self.no_show_window_days <= MAX_DAYS else UserError(
                ErrorCode.OUT_OF_RANGE, f"The window is 1 to {MAX_DAYS} days.", "noShowWindowDays"),
            None if 1 <= self.no_show_block_days <= MAX_DAYS else UserError(
                ErrorCode.OUT_OF_RANGE, f"The block lasts 1 to {MAX_DAYS} days.", "noShowBlockDays"),
        )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"forfeitNoShowPoints": self.forfeit_no_show_points, "noShowLimit": self.no_show_limit,
                "noShowWindowDays": self.no_show_window_days, "noShowBlockDays": self.no_show_block_days}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "VipEventSettings":
        d = d or {}
        base = cls()
        limit = d.get("noShowLimit")
        return cls(forfeit_no_show_points=bool(d.get("forfeitNoShowPoints", base.forfeit_no_show_points)),
                   no_show_limit=int(limit) if limit is not None else None,
                   no_show_window_days=int(d.get("noShowWindowDays", base.no_show_window_days)),
                   no_show_block_days=int(d.get("noShowBlockDays", base.no_show_block_days)))
