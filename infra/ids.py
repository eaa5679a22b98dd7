"""Time-ordered identifiers (ULID) for ledger entries, outbox events and other sortable items."""
from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The random bits come from the kernel's generator, read at each call. Never from a PRNG seeded (or a
# buffer of bytes drawn) at import: with SnapStart every container restored from one snapshot starts with
# the memory of the same init, and would repeat the same "random" bits; the kernel's generator is reseeded
# in each restored copy. tests/unit/test_snapstart.py forks restored copies to hold this.
_entropy = os.urandom


def new_ulid(at_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits; sorts by time as a string."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    value = (ms << 80) | int.from_bytes(_entropy(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
