"""The program's settings for members' posts: what approval is worth, how long points wait, caps,
auto-approval. Stored in the program (`Program.posts`), edited with `postSettingsSet`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PostSettings:
    enabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "PostSettings":
        d = d or {}
        return cls(enabled=bool(d.get("enabled", False)))
