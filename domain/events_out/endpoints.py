"""A brand's webhook endpoint as the rules see it: which event types it wants, which secrets sign a delivery,
how a rotation keeps the previous secret for an overlap, and how many endpoints a program may have."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.errors import ErrorCode, UserError
from domain.events_out import catalog, signing

ALL_TYPES = "*"
ROTATION_OVERLAP = timedelta(hours=24)  # long enough for a receiver to deploy the new secret
MAX_ENDPOINTS = 20  # per program: every published event reads them all
MAX_EVENT_TYPES = 50  # an endpoint's list of wanted types; the catalog is far smaller


@dataclass(frozen=True)
class Endpoint:
    tenant: str
    id: str
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    secrets: tuple[dict[str, Any], ...]
    description: str | None
    created_at: str
    updated_at: str

    def wants(self, public_type: str) -> bool:
        return self.enabled and (ALL_TYPES in self.event_types or public_type in self.event_types)

    def active_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery at `now` is signed with: the current one and any still in its overlap."""
        return [s["secret"] for s in self.secrets if not s.get("until") or datetime.fromisoformat(s["until"]) > now]


def check_event_types(types: list[str] | None) -> tuple[str, ...]:
    """Public catalog names (deduplicated, in catalog order), or ("*",) for None/empty: all types.
    UserError on `eventTypes` for too many names or unknown ones."""
    if not types:
        return (ALL_TYPES,)
    if len(types) > MAX_EVENT_TYPES:
        raise UserError(ErrorCode.TOO_LONG, f"At most {MAX_EVENT_TYPES} event types.", "eventTypes")
    known = list(catalog.PUBLIC.values())
    unknown = [t for t in types if t not in known]
    if unknown:
        raise UserError(ErrorCode.INVALID, f"Unknown event types: {', '.join(sorted(set(unknown)))}.", "eventTypes")
    return tuple(t for t in known if t in set(types))


def rotated(secrets: list[dict[str, Any]], now: datetime, overlap: timedelta = ROTATION_OVERLAP) -> tuple[list, str]:
    """The secrets after a rotation at `now`: a new current one, the previous current one valid for
    `overlap`, older ones whose overlap ended dropped (at most two are ever active)."""
    new = signing.new_secret()
    until = (now + overlap).isoformat()
    kept = [{"secret": s["secret"], "until": until} for s in secrets if not s.get("until")]
    return [{"secret": new, "until": None}, *kept], new
