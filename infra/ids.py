"""Time-ordered identifiers (ULID) for ledger entries, outbox events and other sortable items."""
from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid(at_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits; sorts by time as a string."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
