"""A challenge as staff define it: a criterion counted only for events inside [startsAt, endsAt), for
every member (automatic) or for those who joined (opt-in, events from when they joined); completing
it rewards points and/or a badge, once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain import bounds
from domain.badges import criteria
from domain.badges.criteria import Spec
from domain.errors import ErrorCode, UserError, UserErrors

MAX_REWARD = 1_000_000
PROGRESS_KEPT = timedelta(days=30)  # a member's progress item lives this long after the challenge ends (TTL)


@dataclass(frozen=True)
class Challenge:
    id: str
    name: str
    criterion: Spec
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    image_url: str | None = None
    opt_in: bool = False  # members join with `challengeJoin`; else everyone takes part
    reward_points: int = 0
    reward_badge: str | None = None  # a badge id awarded on completion

    def running_at(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def counts(self, occurred_at: datetime, joined_at: datetime | None) -> bool:
        """Whether an event at `occurred_at` counts for a member who joined at `joined_at` (None: not joined)."""
        if not self.running_at(occurred_at):
            return False
        if self.opt_in:
            return joined_at is not None and occurred_at >= joined_at
        return True

    def kept_until(self) -> datetime:
        return self.ends_at + PROGRESS_KEPT


def validate(c: Challenge, badge_exists: bool = True) -> Challenge:
    problems: list[UserError] = []
    if not c.name.strip():
        problems.append(UserError(ErrorCode.REQUIRED, "A challenge needs a name.", "name"))
    problems += criteria.check(c.criterion)
    for name, at in (("startsAt", c.starts_at), ("endsAt", c.ends_at)):
        p = bounds.moment_problem(at, name)
        if p:
            problems.append(p)
    if c.ends_at <= c.starts_at:
        problems.append(UserError(ErrorCode.INVALID, "`endsAt` must be after `startsAt`.", "endsAt"))
    if not 0 <= c.reward_points <= MAX_REWARD:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"`rewardPoints` is 0 to {MAX_REWARD:,}.", "rewardPoints"))
    if c.reward_badge is not None and not badge_exists:
        problems.append(UserError(ErrorCode.NOT_FOUND, "No badge has this id.", "rewardBadge"))
    if c.reward_points == 0 and c.reward_badge is None:
        problems.append(UserError(ErrorCode.REQUIRED, "A challenge rewards points, a badge or both.", "rewardPoints"))
    if problems:
        raise UserErrors(problems)
    return c


def to_dict(c: Challenge) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "criterion": c.criterion.to_dict(), "startsAt": c.starts_at.isoformat(),
            "endsAt": c.ends_at.isoformat(), "description": c.description, "imageUrl": c.image_url,
            "optIn": c.opt_in, "rewardPoints": c.reward_points, "rewardBadge": c.reward_badge}


def from_dict(d: dict[str, Any]) -> Challenge:
    return Challenge(id=d["id"], name=d["name"], criterion=Spec.from_dict(d["criterion"]),
                     starts_at=datetime.fromisoformat(d["startsAt"]), ends_at=datetime.fromisoformat(d["endsAt"]),
                     description=d.get("description") or "", image_url=d.get("imageUrl"),
                     opt_in=bool(d.get("optIn")), reward_points=int(d.get("rewardPoints") or 0),
                     reward_badge=d.get("rewardBadge"))
