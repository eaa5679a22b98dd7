"""The public leaderboards."""
from __future__ import annotations

import strawberry

from infra.leaderboards import Leaderboards
from resolvers.context import Info
from resolvers.leaderboards.types import LeaderboardEntry, LeaderboardPeriod, MonthArg, board_of
from resolvers.pagination import Connection, connection
from resolvers.permissions import CanReadCatalog


@strawberry.type
class LeaderboardQueries:
    @strawberry.field(permission_classes=[CanReadCatalog], description=(
        "A leaderboard, highest score first, of the members who joined (`leaderboardJoin`). Rows show a display "
        "name, never a member id or email. Pages continue from their cursor on the same board, ranks counted "
        "across pages. Readable as `programSummary` is: without a token only when the program is public (else "
        "null, with an UNAUTHENTICATED error)."))
    def leaderboard(self, info: Info, period: LeaderboardPeriod, month: MonthArg = None, first: int | None = None,
                    after: str | None = None) -> Connection[LeaderboardEntry] | None:
        board = board_of(info, period, month)
        boards = Leaderboards(info.context.require_tenant())
        return connection(info, first, after, lambda size, start: boards.page(board, size, start), LeaderboardEntry.of)
