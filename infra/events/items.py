"""Items of the event processor: effect marks (applied once) and where the local reader stopped."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from infra.items.base import TableItem


class EffectMark(TableItem, discriminator="effect"):
    """`~FX#<event>#<listener>`: this listener applied this event; TTL three days."""

    listener = UnicodeAttribute()
