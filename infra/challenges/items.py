"""`T#t#PROGRAM / CHALLENGE#<id>`: a challenge definition (staff), cached per container with the badges."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute

from infra.items.base import TableItem

CHALLENGE_PREFIX = "CHALLENGE#"


class ChallengeDefinition(TableItem, discriminator="challenge-def"):
    definition = JSONAttribute()
    version = NumberAttribute(default=1)
