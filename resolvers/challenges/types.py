"""GraphQL shapes of challenges and of a member's part in them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.challenges.definitions import Challenge as ChallengeRule
from domain.progress.counters import Counters
from infra.progress import catalog as catalogs
from infra.progress.items import ChallengeProgress
from infra.pages import list_page
from resolvers.badges.types import EMBEDDED, Badge, BadgeCriterion, Progress, badge_of, caller_member
from resolvers.nodes import Node, node_type
from resolvers.pagination import Connection, connection
from resolvers.permissions import can_read_catalog
from resolvers.shapes import change


def challenge_visible(info: Any, c: ChallengeRule) -> bool:
    """Staff see every challenge; others those running or still to come."""
    return info.context.principal.is_staff() or info.context.now() < c.ends_at


def _load(info: Any, key: str) -> "Challenge | None":
    found = catalogs.catalog(info.context.programs).challenge(key)
    return Challenge.of(found) if found else None


def member_progress_items(info: Any, member_id: str) -> dict[str, ChallengeProgress]:
    return {i.challenge_id: i for i in info.context.member_card(member_id) if isinstance(i, ChallengeProgress)}


@strawberry.type(description=f"A member's part in a challenge. {EMBEDDED}")
class MemberChallenge:
    challenge: "Challenge"
    joined: bool = strawberry.field(description="Taking part: always for an automatic challenge; for an opt-in one "
                                                "after `challengeJoin`.")
    joined_at: datetime | None
    progress: Progress = strawberry.field(description="Counted from events inside the challenge's window (and, for an "
                                                      "opt-in challenge, after joining).")
    completed_at: datetime | None

    @classmethod
    def of(cls, c: ChallengeRule, item: ChallengeProgress | None) -> "MemberChallenge":
        counters = Counters.from_dict(item.counters if item else None)
        p = Progress.of(counters, c.criterion)
        assert p is not None
        done = item.completed_at if item else None
        return cls(challenge=Challenge.of(c), joined=not c.opt_in or bool(item and item.joined_at),
                   joined_at=datetime.fromisoformat(item.joined_at) if item and item.joined_at else None,
                   progress=Progress(current=p.target, target=p.target) if done else p,
                   completed_at=datetime.fromisoformat(done) if done else None)


@node_type(load=_load, may_ask=lambda info, key: can_read_catalog(info),
           may_read=lambda info, c: challenge_visible(info, c.definition))
@strawberry.type(description="A time-boxed challenge: meet its criterion with events between `startsAt` and `endsAt` "
                             "to win its reward once.")
class Challenge(Node):
    definition: strawberry.Private[ChallengeRule]
    challenge_id: strawberry.ID = strawberry.field(description="The challenge's own id (a slug).")
    name: str
    description: str
    image_url: str | None
    criterion: BadgeCriterion
    starts_at: datetime
    ends_at: datetime
    opt_in: bool = strawberry.field(description="Members take part only after `challengeJoin`; else everyone does.")
    reward_points: int

    def node_key(self) -> str:
        return self.definition.id

    @strawberry.field(description="The badge awarded on completion, if any (null also when the caller may not see it).")
    def reward_badge(self, info: strawberry.Info) -> Badge | None:
        return badge_of(info, self.definition.reward_badge)

    @strawberry.field(description="The signed-in member's part in it; null for other callers.")
    def my_progress(self, info: strawberry.Info) -> MemberChallenge | None:
        member = caller_member(info)
        if member is None:
            return None
        return MemberChallenge.of(self.definition, member_progress_items(info, member).get(self.definition.id))

    @classmethod
    def of(cls, c: ChallengeRule) -> "Challenge":
        criterion = BadgeCriterion.of(c.criterion)
        assert criterion is not None
        return cls(definition=c, challenge_id=strawberry.ID(c.id), name=c.name, description=c.description,
                   image_url=c.image_url, criterion=criterion, starts_at=c.starts_at, ends_at=c.ends_at,
                   opt_in=c.opt_in, reward_points=c.reward_points)


def describe_challenge(before: ChallengeRule | None, after: ChallengeRule) -> dict[str, Any]:
    return {"challengeId": after.id, **change(Challenge.of(before) if before else None, Challenge.of(after))}


def _position(c: ChallengeRule) -> list[str]:
    return [c.ends_at.isoformat(), c.id]


def challenge_catalog(info: Any, first: int | None, after: str | None) -> Connection[Challenge]:
    """Running and coming challenges, ending soonest first."""
    shown = [c for c, _ in catalogs.catalog(info.context.programs).challenges.values() if challenge_visible(info, c)]
    return connection(info, first, after, lambda size, start: list_page(shown, _position, size, start), Challenge.of)


def member_challenges(info: Any, member_id: str, first: int | None, after: str | None) -> Connection[MemberChallenge]:
    """Challenges running now, and those the member took part in until their progress expires."""
    now = info.context.now()
    items = member_progress_items(info, member_id)
    shown = [c for c, _ in catalogs.catalog(info.context.programs).challenges.values()
             if c.running_at(now) or c.id in items]
    return connection(info, first, after, lambda size, start: list_page(shown, _position, size, start),
                      lambda c: MemberChallenge.of(c, items.get(c.id)), owner=member_id)
