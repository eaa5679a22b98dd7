"""GraphQL shapes of a leaderboard: a row as the public sees it, and a member's own rank."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from domain.leaderboards import periods
from domain.leaderboards.periods import Period
from infra.leaderboards import Leaderboards, MyRank, RankedRow
from resolvers.points.types import embedded
from resolvers.scalars import bounded_arg

LeaderboardPeriod = strawberry.enum(Period, name="LeaderboardPeriod", description=(
    "MONTH: qualifying points earned in one local month of the program (its time zone), a refund taking back "
    "from the month the order counted in; ALL_TIME: all qualifying points ever, net of refunds. Expired and "
    "redeemed points do not lower a score."))

MonthArg = Annotated[str | None, bounded_arg(periods.MONTH, description=(
    "For MONTH: which month's board; the current local month when left out. The current month and the "
    f"{periods.MONTHS_KEPT - 1} before it are kept; another is OUT_OF_RANGE."))]
DisplayNameArg = Annotated[str, bounded_arg(periods.DISPLAY_NAME)]


@strawberry.type(description=embedded(
    "One row of a public leaderboard. It shows only the display name the member chose when joining: never "
    "their member id, name or email."))
class LeaderboardEntry:
    rank: int = strawberry.field(description=(
        "Competition ranking: members with equal scores share a rank and the next rank skips (1, 2, 2, 4). "
        "Among equal scores, whoever reached the score first is listed first."))
    display_name: str
    score: int = strawberry.field(description="Qualifying points in the board's period, as the server counts them.")
    reached_at: datetime = strawberry.field(description="When the member reached this score (the tiebreak).")

    @classmethod
    def of(cls, r: RankedRow) -> "LeaderboardEntry":
        return cls(rank=r.rank, display_name=r.row.display_name, score=r.row.score, reached_at=r.row.reached_at)


@strawberry.type(description=embedded(
    "Where the member stands on one board. Exact within the top 100 (and wherever fewer than 100 members of "
    "each of the board's shards score higher); below that approximate: the true rank is within "
    "`rank ± approximateWithin`."))
class LeaderboardRank:
    rank: int
    exact: bool
    score: int
    approximate_within: int = strawberry.field(description=(
        "0 when exact; otherwise how far the true rank can be from `rank`: at most the number of members whose "
        "scores are within about 3 % of this one."))

    @classmethod
    def of(cls, r: MyRank) -> "LeaderboardRank":
        return cls(rank=r.rank, exact=r.exact, score=r.score, approximate_within=r.within)


def board_of(info: Any, period: Period, month: str | None) -> str:
    """The board a request means, from the program's time zone and the server's clock."""
    ctx = info.context
    return periods.board_key(Period(period.value), month, ctx.now(), ctx.programs.program().timezone)


def leaderboard_rank(info: Any, member_id: str, period: Period, month: str | None) -> LeaderboardRank | None:
    """`Member.leaderboardRank`: null when the member has not joined or has no points on that board."""
    mine = Leaderboards(info.context.require_tenant()).rank(member_id, board_of(info, period, month))
    return LeaderboardRank.of(mine) if mine else None
