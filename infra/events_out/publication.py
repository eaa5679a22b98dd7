"""What an event is published as, decided once per event and kept: its per-member sequence number and the
member block (domain/events_out/catalog.py), so every delivery of it (each endpoint, every retry, the bus,
a batch handled again) carries the same envelope.

- `~EVSEQ` in the member's partition counts the member's published events (UpdateItem ADD, answered
  with the new value). Events come out of the stream in the member partition's write order and the
  processor handles a shard's records in order, stopping at the first failure, so the numbers follow the
  changes; a processor stopped between the count and the mark leaves a gap, never a repeat.
- The detail is the change's own, with what marketing needs added (infra/events_out/enrich.py: the
  badge's name, the VIP event's title and start).
- `~PUB#<event>` holds the envelope as first published and whether the bus has it (TTL three days, past
  every replay of the stream). Written `attribute_not_exists`: two containers on one event agree on the
  first one's envelope.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute

from domain.events_out import catalog
from infra import keys
from infra.dynamo_errors import call, conditional
from infra.events.model import EFFECT_TTL_SECONDS, Env, Event
from infra.events_out.enrich import enriched
from infra.events_out.envelopes import envelope_of
from infra.items import MemberProfile
from infra.items.base import TableItem

SEQUENCE_SK = "~EVSEQ"
PUBLICATION_PREFIX = "~PUB#"


class SequenceCounter(TableItem, discriminator="event-sequence"):
    last = NumberAttribute(default=0)


class Publication(TableItem, discriminator="publication"):
    envelope = JSONAttribute()
    on_bus = BooleanAttribute(default=False, attr_name="onBus")


def _member_block(event: Event) -> dict[str, Any]:
    try:
        profile = call(lambda: MemberProfile.get(event.member_pk, keys.PROFILE, consistent_read=True),
                       what="member profile")
    except MemberProfile.DoesNotExist:
        return catalog.member_block(None)
    return catalog.member_block(catalog.MemberFacts(
        marketing_consent=bool(profile.marketing_consent), tier=profile.tier_announced or profile.tier,
        points_available=int(profile.available or 0), name=profile.name, email=profile.email,
        locale=profile.locale))


def published(event: Event, env: Env) -> Publication | None:
    """The event's publication (made now if it is the first time), or None when its type is not published."""
    if catalog.public_name(event.type) is None:
        return None
    sk = PUBLICATION_PREFIX + event.event_id
    try:
        return call(lambda: Publication.get(event.member_pk, sk, consistent_read=True), what="publication")
    except Publication.DoesNotExist:
        pass
    counter = SequenceCounter(event.member_pk, SEQUENCE_SK)
    call(lambda: counter.update(actions=[SequenceCounter.last.add(1)]), what="event sequence")
    sequence = int(counter.last)  # the update answers with the item as it now is
    envelope = envelope_of(replace(event, detail=enriched(event, env)), sequence=sequence,
                           member=_member_block(event))
    made = Publication(event.member_pk, sk, envelope=envelope, expires_at=env.now_epoch + EFFECT_TTL_SECONDS)
    if conditional(lambda: made.save(Publication.PK.does_not_exist()), what="publication"):
        return made
    return call(lambda: Publication.get(event.member_pk, sk, consistent_read=True), what="publication")


def mark_on_bus(publication: Publication) -> None:
    call(lambda: publication.update(actions=[Publication.on_bus.set(True)]), what="publication")
