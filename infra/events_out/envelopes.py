"""The published envelope of an outbox event as it comes out of the stream (domain/events_out/catalog.py
says which types are published and what the envelope holds)."""
from __future__ import annotations

from typing import Any

from domain.events_out import catalog
from infra.events.model import Event


def envelope_of(event: Event, *, sequence: int, member: dict[str, Any]) -> dict[str, Any] | None:
    """The envelope receivers get for `event` (its sequence and member block decided by
    infra/events_out/publication.py), or None when its type is not published."""
    if catalog.public_name(event.type) is None:
        return None
    return catalog.envelope(event_id=event.event_id, internal_type=event.type, tenant=event.tenant,
                            member_id=event.member_id, occurred_at=event.occurred_at, detail=event.detail,
                            sequence=sequence, member=member)
