"""What a published event adds to its change's own detail so a marketing tool can personalise without
calling back: the badge's name and image for BadgeAwarded, the event's title, venue and start for the VIP
event types. Read through the per-container catalogs (badges, VIP events), so usually no DynamoDB call.
A definition deleted meanwhile adds nothing: the ids in the detail still say what happened."""
from __future__ import annotations

from typing import Any, Callable

from infra.events.model import Env, Event

VIP_TYPES = ("vip_event.registered", "vip_event.waitlist_promoted", "vip_event.cancelled")


def _badge(event: Event, env: Env) -> dict[str, Any]:
    from infra.badges.store import BadgeStore
    badge_id = event.detail.get("badgeId")
    badge = BadgeStore(event.tenant, env.programs(event.tenant)).get(badge_id) if isinstance(badge_id, str) else None
    return {"badgeName": badge.name, "badgeImageUrl": badge.image_url} if badge else {}


def _vip_event(event: Event, env: Env) -> dict[str, Any]:
    from infra.vip_events.catalog import EventCatalog
    event_id = event.detail.get("eventId")
    if not isinstance(event_id, str):
        return {}
    found = EventCatalog(event.tenant, env.programs(event.tenant)).known(event_id, env.now)
    if found is None:
        return {}
    e = found.event
    return {"title": e.title, "venue": e.venue, "startsAt": e.starts_at.isoformat(), "endsAt": e.ends_at.isoformat()}


ENRICHERS: dict[str, Callable[[Event, Env], dict[str, Any]]] = {
    "badge.awarded": _badge, **{t: _vip_event for t in VIP_TYPES},
}


def enriched(event: Event, env: Env) -> dict[str, Any]:
    """The detail as published: the change's own keys win over anything added."""
    add = ENRICHERS.get(event.type)
    return {**(add(event, env) if add else {}), **event.detail}


