"""Score buckets: where a member stands far below the top, without reading the members above.

A board keeps, per write shard, how many members have a score in each bucket (infra/leaderboards keeps
the counts exact: each count changes in the same transaction as the row it counts). Buckets are 1 wide
up to 64, then 1/32 (3.1 %) of their lower bound wide, rounded down: `[0], [1], ..., [63], [64, 66),
..., [999, 1030), ...` (`BOUNDS`: 1,060 buckets up to 10^15).

A member with score s in bucket b: `above` = members in higher buckets, `n` = members in b (the member
included). Their competition rank (1 + members with a higher score) is then certainly within
`[above + 1, above + n]`; `estimate` places it inside that interval by the score's position in the
bucket, and says how far off it can be: `within = max(rank - low, high - rank)`, never more than n - 1.
So the error is bounded by how many members share the member's 3 % score band, and is zero when the
member is alone in it.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Mapping

from domain.leaderboards.score_keys import MAX_SCORE

FINE_UP_TO = 32  # buckets of width 1 below this
WIDTH_SHARE = 32  # above it a bucket is lower // WIDTH_SHARE wide


def _bounds() -> tuple[int, ...]:
    out, x = [], 0
    while x <= MAX_SCORE:
        out.append(x)
        x = x + 1 if x < FINE_UP_TO else x + x // WIDTH_SHARE
    return tuple(out)


BOUNDS = _bounds()  # lower bound of each bucket


def bucket(score: int) -> int:
    return bisect.bisect_right(BOUNDS, max(0, score)) - 1


def bucket_range(b: int) -> tuple[int, int]:
    """[low, high) of bucket b."""
    return BOUNDS[b], (BOUNDS[b + 1] if b + 1 < len(BOUNDS) else MAX_SCORE + 1)


def attribute(b: int) -> str:
    """The count's attribute name on a histogram item."""
    return f"h{b}"


def bucket_of_attribute(name: str) -> int | None:
    return int(name[1:]) if name.startswith("h") and name[1:].isdigit() else None


@dataclass(frozen=True)
class Estimate:
    rank: int
    within: int  # the true rank is within rank ± within
    low: int
    high: int


def estimate(counts: Mapping[int, int], score: int, at_least: int = 1) -> Estimate:
    """Rank of a member with `score` from bucket counts summed over a board's shards (the member counted
    in). `at_least`: a lower bound known otherwise (e.g. "more than N above" from an exact count)."""
    b = bucket(score)
    above = sum(c for k, c in counts.items() if k > b and c > 0)
    n = max(1, counts.get(b, 0))
    low, high = above + 1, above + n
    lo, hi = bucket_range(b)
    span = (hi - 1) - lo
    higher_share = ((hi - 1) - score) / span if span > 0 else 0.0  # share of the bucket's scores above this one
    rank = low + round((n - 1) * higher_share)
    low = max(low, min(at_least, high))
    rank = min(max(rank, low), high)
    return Estimate(rank=rank, within=max(rank - low, high - rank), low=low, high=high)
