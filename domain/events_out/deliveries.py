"""A webhook delivery's life: one per event and endpoint, PENDING until an attempt is answered 2xx
(DELIVERED) or the retry matrix gives up (DEAD, for staff to list and replay); CANCELLED when its endpoint
was deleted before it got through. How long each is kept after it ends."""
from __future__ import annotations

from datetime import timedelta
from enum import Enum


class DeliveryStatus(Enum):
    PENDING = "PENDING"  # due for its next attempt (at once, or on the retry schedule)
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # the retry matrix gave up; staff may replay it
    CANCELLED = "CANCELLED"  # its endpoint is gone


KEEP_DELIVERED = timedelta(days=7)  # long enough to answer "did it go out?"
KEEP_DEAD = timedelta(days=30)  # staff have a month to fix the receiver and replay
KEEP_CANCELLED = timedelta(days=7)

ENDPOINT_DISABLED = "endpoint disabled"  # the last error of a delivery dead-lettered because its endpoint was off
