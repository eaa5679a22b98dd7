"""Progress items in the member's dashboard range (`BADGE#` .. `PROG#~`), each bounded:

    PROG#COUNTERS        the member's counters and streaks (domain/progress/counters.py), one item
    PROG#CH#<challenge>  a challenge's own counters (events inside its window), joinedAt for opt-in
                         challenges, completedAt; TTL 30 days after the challenge ends
"""
from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem


class CompactJSON(JSONAttribute):
    """JSON without the spaces after separators: every `me` reads these items, by the byte."""

    def serialize(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

COUNTERS_SK = "PROG#COUNTERS"
CHALLENGE_PROGRESS_PREFIX = "PROG#CH#"


class ProgressCounters(TableItem, discriminator="progress"):
    counters = CompactJSON()
    version = NumberAttribute(default=1)


class ChallengeProgress(TableItem, discriminator="challenge-progress"):
    challenge_id = UnicodeAttribute(attr_name="challengeId")
    counters = CompactJSON(default=dict)
    version = NumberAttribute(default=1)
    joined_at = UnicodeAttribute(null=True, attr_name="joinedAt")
    completed_at = UnicodeAttribute(null=True, attr_name="completedAt")
