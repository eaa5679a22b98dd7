"""Items of the leaderboards: a member's row on one board, the member's board state, and each shard's
score histogram. Rows and state sit in the member's partition after the dashboard range (`~LB...`, past
`PROG#~`), so `me` never reads them and a member's items are one key range."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem


class BoardEntry(TableItem, discriminator="lb-entry"):
    """`~LB#<board>` in the member's partition; GSI1 `T#t#LB#<board>#<shard>` / the score key."""

    member_id = UnicodeAttribute(attr_name="memberId")
    board = UnicodeAttribute()
    display_name = UnicodeAttribute(attr_name="displayName")
    score = NumberAttribute()
    reached_at = UnicodeAttribute(attr_name="reachedAt")  # ISO, UTC: when the member reached this score
    shard = NumberAttribute()


class BoardMembership(TableItem, discriminator="lb-member"):
    """`~LB` in the member's partition: a counter every change of the member's rows moves, so two
    changes (a credit's listener, opting out) can never both apply what each read."""

    seq = NumberAttribute(default=0)


class BoardHistogram(TableItem, discriminator="lb-histogram"):
    """`T#t#LB#<board>` / `HIST#<shard>`: members per score bucket, attributes `h<bucket>` (ADDed)."""

    board = UnicodeAttribute()
    shard = NumberAttribute()
