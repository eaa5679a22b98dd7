"""Demo data for `make run`: a populated leaderboard. api/demo.py calls `seed_leaderboard` after the members
and their orders exist."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from domain import calendar
from infra.leaderboards.boards import Leaderboards, Seed
from infra.points.program_store import ProgramCache, ProgramStore

COMMUNITY = 40  # members who exist only to fill the board ("demo-fan-01" ...)
JOINING = (("demo-member-1", "Aiko T."), ("demo-member-2", "Ben C."))  # demo-member-3 stays off the boards


def seed_leaderboard(tenant: str, programs: ProgramCache, now: datetime,
                     joining: tuple[tuple[str, str], ...] = JOINING) -> None:
    """Idempotent: the community members are written once (found by the first one's row); the demo members
    join with their real qualification (joining again under the same name changes nothing)."""
    tz = ProgramStore(tenant, programs).program().timezone
    boards = Leaderboards(tenant)
    if boards.row("demo-fan-01", "ALL") is None:
        rng = random.Random(11)  # the same board at every fresh start
        this, last = calendar.month_key(now, tz), calendar.add_months(calendar.month_key(now, tz), -1)
        seeds = []
        for i in range(1, COMMUNITY + 1):
            month, before = rng.choice([0, 10, 25, 40, 80, 120, 200]), rng.randint(0, 600)
            seeds.append(Seed(f"demo-fan-{i:02d}", f"Fan {i:02d}", month + before, {this: month, last: before},
                              reached_at=now - timedelta(hours=rng.randint(1, 500)), name=f"Demo Fan {i:02d}"))
        boards.bulk_load(seeds, now, tz)
    for member_id, display_name in joining:
        boards.join(member_id, display_name, now, tz)
