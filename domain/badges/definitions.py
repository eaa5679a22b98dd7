"""A badge as staff define it, and when a member may earn it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import bounds
from domain.badges import criteria
from domain.badges.criteria import Spec
from domain.errors import ErrorCode, UserError, UserErrors

MAX_BONUS = 1_000_000


@dataclass(frozen=True)
class Badge:
    id: str
    name: str
    criterion: Spec | None  # None: awarded only by a challenge that names it as its reward
    description: str = ""
    image_url: str | None = None
    bonus_points: int = 0
    secret: bool = False  # shown to a member only once they hold it
    available_from: datetime | None = None
    available_until: datetime | None = None

    def available_at(self, at: datetime) -> bool:
        return (self.available_from is None or self.available_from <= at) and (
            self.available_until is None or at < self.available_until)


def validate(b: Badge) -> Badge:
    problems: list[UserError] = []
    if not b.name.strip():
        problems.append(UserError(ErrorCode.REQUIRED, "A badge needs a name.", "name"))
    if b.criterion is not None:
        problems += criteria.check(b.criterion)
    if not 0 <= b.bonus_points <= MAX_BONUS:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"`bonusPoints` is 0 to {MAX_BONUS:,}.", "bonusPoints"))
    for name, at in (("availableFrom", b.available_from), ("availableUntil", b.available_until)):
        p = bounds.moment_problem(at, name)
        if p:
            problems.append(p)
    if b.available_from and b.available_until and b.available_until <= b.available_from:
        problems.append(UserError(ErrorCode.INVALID, "`availableUntil` must be after `availableFrom`.",
                                  "availableUntil"))
    if problems:
        raise UserErrors(problems)
    return b


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _at(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def to_dict(b: Badge) -> dict[str, Any]:
    return {"id": b.id, "name": b.name, "criterion": b.criterion.to_dict() if b.criterion else None,
            "description": b.description, "imageUrl": b.image_url, "bonusPoints": b.bonus_points, "secret": b.secret,
            "availableFrom": _iso(b.available_from), "availableUntil": _iso(b.available_until)}


def from_dict(d: dict[str, Any]) -> Badge:
    return Badge(id=d["id"], name=d["name"], criterion=Spec.from_dict(d["criterion"]) if d.get("criterion") else None,
                 description=d.get("description") or "", image_url=d.get("imageUrl"),
                 bonus_points=int(d.get("bonusPoints") or 0), secret=bool(d.get("secret")),
                 available_from=_at(d.get("availableFrom")), available_until=_at(d.get("availableUntil")))


def needs_backfill(before: Badge | None, after: Badge) -> bool:
    """Whether saving `after` may make members who already qualify owed it: a new badge, or one whose
    criterion or availability changed (it becomes available, or asks less). A badge without a criterion
    (challenge rewards) is never backfilled."""
    if after.criterion is None:
        return False
    return before is None or (before.criterion, before.available_from, before.available_until) != (
        after.criterion, after.available_from, after.available_until)
