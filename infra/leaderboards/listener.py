"""The leaderboards' listener: after a change to qualification, the member's rows mirror the profile.

State-based (infra/events/model.py): it reads the profile and the member's rows and writes the
difference, conditioned on what it read (infra/leaderboards/boards.py), so a replay, a late event or two
events at once change nothing twice. Expiry and redemptions never reach it: they do not touch
qualification, so they do not touch scores.
"""
from __future__ import annotations

from infra.events.model import Env, Event, register
from infra.leaderboards.boards import Leaderboards

EVENT_TYPES = frozenset({
    "points.earned",  # an order or an action that qualifies: qp:<month> and qpAll went up
    "points.reversed",  # a refund: the month the order qualified in goes down
    "points.adjusted",  # a staff adjustment that says it qualifies (up or down)
})


class LeaderboardListener:
    name = "leaderboards"
    event_types = EVENT_TYPES

    def handle(self, event: Event, env: Env) -> None:
        if not event.detail.get("qualifying"):
            return  # moved no qualification (a bonus, a non-qualifying action): no score changed, no read
        tz = env.programs(event.tenant).program().timezone
        # The score was reached by the change this event tells about (never before an earlier row's time).
        Leaderboards(event.tenant).sync(event.member_id, env.now, tz, reached_at=event.occurred_at)


LISTENER = register(LeaderboardListener())
