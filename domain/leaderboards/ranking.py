"""Ranks on a board: competition ranking (1, 2, 2, 4) with a deterministic order among equal scores.

Order: higher score first; among equal scores, whoever reached that score first (earlier `reachedAt`);
then the member id (ascending), so two members who reached the same score in the same millisecond
still have one fixed order. Equal scores share a rank, the rank of the first of them: the rank is one
more than the number of members with a strictly higher score, whatever the tiebreak, so the tiebreak
decides only the order in which equal ranks are listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Standing:
    member_id: str
    score: int
    reached_at: datetime


def order_key(s: Standing) -> tuple:
    return (-s.score, s.reached_at, s.member_id)


def ordered(standings: Iterable[Standing]) -> list[Standing]:
    return sorted(standings, key=order_key)


@dataclass(frozen=True)
class Place:
    """Where the last row shown stands: its 1-based position in the board's order, rank and score.
    A page continues from it (the cursor carries it), so ranks stay right across pages."""

    position: int
    rank: int
    score: int


START = Place(position=0, rank=0, score=-1)


def ranks(scores: Sequence[int], after: Place = START) -> list[int]:
    """Competition ranks of `scores` (in board order, non-increasing) following the row `after`."""
    out: list[int] = []
    position, rank, previous = after.position, after.rank, after.score
    for score in scores:
        position += 1
        if score != previous:
            rank = position
        out.append(rank)
        previous = score
    return out


def place_after(after: Place, scores: Sequence[int]) -> Place:
    """The place of the last of `scores` shown after `after`."""
    if not scores:
        return after
    return Place(position=after.position + len(scores), rank=ranks(scores, after)[-1], score=scores[-1])


def competition_ranks(standings: Sequence[Standing]) -> dict[str, int]:
    """member id -> rank, for a whole board (the model the stored board is tested against)."""
    board = ordered(standings)
    return {s.member_id: r for s, r in zip(board, ranks([s.score for s in board]))}
