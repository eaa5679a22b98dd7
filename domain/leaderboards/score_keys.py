"""The sort key of a board row: one string whose order is the board's order, read backward.

`<score, 15 digits>#<inverted reachedAt in ms, 15 digits>#<inverted member id>~`

Fixed-width digits make string order numeric order. A board is read with the index backward
(descending), so the highest score comes first; among equal scores the earlier `reachedAt` must come
first, so it is stored inverted (`10^15 - 1 - ms`); then the member id ascending, stored inverted too:
each byte as two hex digits of `255 - byte`, closed by `~` (greater than any hex digit, so a shorter id
sorts after the longer ids it is a prefix of, and comes first when read backward). Keys are unique per
member and board, so a page that ends at a key continues exactly after it.

`floor(s)` is the smallest key of score `s`: every key of a higher score sorts at or above `floor(s+1)`,
so "members above me" is one key range (a count of it is the exact competition rank).
"""
from __future__ import annotations

from datetime import datetime, timezone

SCORE_DIGITS = 15
MAX_SCORE = 10 ** SCORE_DIGITS - 1
_MS_TOP = 10 ** 15 - 1


def clamp(score: int) -> int:
    return max(0, min(int(score), MAX_SCORE))


def _invert_id(member_id: str) -> str:
    return "".join(f"{255 - b:02x}" for b in member_id.encode()) + "~"


def _restore_id(inverted: str) -> str:
    body = inverted.rstrip("~")
    return bytes(255 - int(body[i:i + 2], 16) for i in range(0, len(body), 2)).decode()


def score_key(score: int, reached_at: datetime, member_id: str) -> str:
    ms = int(reached_at.timestamp() * 1000)
    return f"{clamp(score):0{SCORE_DIGITS}d}#{_MS_TOP - ms:015d}#{_invert_id(member_id)}"


def floor(score: int) -> str:
    """The lowest key of `score` (every key of that score or higher is >= it)."""
    return f"{clamp(score):0{SCORE_DIGITS}d}#"


def decode(key: str) -> tuple[int, datetime, str]:
    score, inverted_ms, inverted_id = key.split("#", 2)
    at = datetime.fromtimestamp((_MS_TOP - int(inverted_ms)) / 1000, tz=timezone.utc)
    return int(score), at, _restore_id(inverted_id)
