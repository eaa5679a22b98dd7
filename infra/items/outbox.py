"""Outbox events, written in the same transaction as the change they announce; the stream sends them on."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from infra.items.base import TableItem


class OutboxEvent(TableItem, discriminator="event"):
    event_type = UnicodeAttribute(attr_name="eventType")
    tenant = UnicodeAttribute()
    occurred_at = UnicodeAttribute(attr_name="occurredAt")
    detail = JSONAttribute()
