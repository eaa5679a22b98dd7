"""The program's settings for VIP events that hold across events (no-show policy). Stored in the
program (`Program.vip_events`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VipEventSettings:
    def to_dict(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "VipEventSettings":
        return cls()
