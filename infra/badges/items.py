"""Item kinds of badges.

    T#t#PROGRAM / BADGE#<id>             a definition (staff), cached per container with the challenges
    T#t#M#<m>   / BADGE#<id>             a badge held: once per member and badge (attribute_not_exists)
    T#t#JOB#badge-backfill / PASS        badges a backfill walk of the members owes, written by badgeSave
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from infra.items.base import TableItem

BADGE_PREFIX = "BADGE#"
BACKFILL_JOB = "badge-backfill"
PASS_SK = "PASS"


class BadgeDefinition(TableItem, discriminator="badge-def"):
    definition = JSONAttribute()
    version = NumberAttribute(default=1)


class BadgeAward(TableItem, discriminator="badge"):
    """In the dashboard range: one per badge held, so `me.badges` costs no extra read."""

    badge_id = UnicodeAttribute(attr_name="badgeId")
    earned_at = UnicodeAttribute(attr_name="earnedAt")
    cause = UnicodeAttribute()  # the event id that made it, `challenge:<id>@<event>`, or `backfill:<since>`
    backfilled = BooleanAttribute(default=False)


class BadgePass(TableItem, discriminator="badge-pass"):
    badges = UnicodeSetAttribute()  # every badge saved since the pass began: all are checked on the walk
    since = UnicodeAttribute()  # the latest save; a walk that began before it starts over
    retry = BooleanAttribute(default=False)  # a member failed: the walk runs once more when it ends
