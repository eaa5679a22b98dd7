"""GraphQL shapes of badges, criteria, progress and streaks.

What a caller sees of a badge: staff everything; a member every badge they hold (secret ones included)
and the others that are not secret and available now; without a token, when the program is public, the
non-secret available ones. A secret badge a member does not hold is in no list and `node(id:)` answers
null for it, exactly as for a badge that does not exist: nothing of it (name, image, criterion, even its
id) is shown before it is earned."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from domain import bounds
from domain.access import Kind
from domain.badges import criteria
from domain.badges.criteria import Spec
from domain.badges.definitions import Badge as BadgeRule
from domain.progress import counters as counting
from domain.progress import streaks as streak_rules
from domain.progress.counters import Counters
from infra.badges.items import BadgeAward
from infra.pages import list_page
from infra.progress import catalog as catalogs
from infra.progress.items import ProgressCounters
from resolvers.nodes import Node, node_type, read
from resolvers.pagination import Connection, connection
from resolvers.permissions import can_read_catalog
from resolvers.scalars import bounded
from resolvers.shapes import change

EMBEDDED = "An embedded value of its parent: it has no id and is always answered whole with the parent."

CriterionKind = strawberry.enum(
    Enum("CriterionKind", {k: k for k in criteria.KINDS}),  # type: ignore[misc]
    description="What a badge or challenge counts: " + " ".join(f"{k}: {c.description}"
                                                                 for k, c in criteria.KINDS.items()))



@strawberry.type(description=f"What a badge or challenge asks for; only the parameters its kind takes are set. {EMBEDDED}")
class BadgeCriterion:
    kind: CriterionKind  # type: ignore[valid-type]
    count: int | None
    amount: Decimal | None = strawberry.field(description="SPEND_TOTAL: the amount, in `currency`.")
    currency: str | None
    action: str | None = strawberry.field(description="CUSTOM_ACTIVITY: the action rule's name.")
    rank: int | None = strawberry.field(description="TIER_REACHED: the lowest tier rank that counts.")

    @classmethod
    def of(cls, s: Spec | None) -> "BadgeCriterion | None":
        if s is None:
            return None
        return cls(kind=CriterionKind[s.kind], count=s.count, amount=s.amount, currency=s.currency, action=s.action,
                   rank=s.rank)


@strawberry.input(description="A criterion: `kind` and the parameters it takes (PURCHASES: count; SPEND_TOTAL: amount "
                              "and currency; CUSTOM_ACTIVITY: action and count; TIER_REACHED: rank; FIRST_PURCHASE, "
                              "PROFILE_COMPLETED: none; the other kinds: count).")
class CriterionInput:
    kind: CriterionKind  # type: ignore[valid-type]
    count: int | None = None
    amount: Decimal | None = None
    currency: str | None = bounded(bounds.CURRENCY, default=None)
    action: str | None = bounded(bounds.ACTION, default=None)
    rank: int | None = None

    def spec(self) -> Spec:
        return Spec(kind=self.kind.value, count=self.count, amount=self.amount, currency=self.currency,
                    action=self.action, rank=self.rank)


@strawberry.type(description=f"How far a member is: `current` of `target` (amounts in the criterion's currency), "
                             f"current capped at target. {EMBEDDED}")
class Progress:
    # Decimals, as every amount in this API: a spend target of 20,000.50 JPY is exact, never a float.
    current: Decimal
    target: Decimal

    @classmethod
    def of(cls, counters: Counters, spec: Spec | None) -> "Progress | None":
        if spec is None:
            return None
        current, target = criteria.of(spec).progress(counters, spec)
        return cls(current=Decimal(current), target=Decimal(target))


# -- reading a member's part --------------------------------------------------------------------------

def member_counters(info: Any, member_id: str) -> Counters:
    item = next((i for i in info.context.member_card(member_id) if isinstance(i, ProgressCounters)), None)
    return Counters.from_dict(item.counters) if item else Counters()


def member_held(info: Any, member_id: str) -> dict[str, BadgeAward]:
    return {i.badge_id: i for i in info.context.member_card(member_id) if isinstance(i, BadgeAward)}


def caller_member(info: Any) -> str | None:
    principal = info.context.principal
    return principal.subject if principal.kind is Kind.MEMBER else None


def badge_visible(info: Any, badge: BadgeRule) -> bool:
    if info.context.principal.is_staff():
        return True
    member = caller_member(info)
    if member is not None and badge.id in member_held(info, member):
        return True
    return not badge.secret and badge.available_at(info.context.now())


def _load_badge(info: Any, key: str) -> "Badge | None":
    found = catalogs.catalog(info.context.programs).badge(key)
    return Badge.of(found) if found else None


@node_type(load=_load_badge, may_ask=lambda info, key: can_read_catalog(info),
           may_read=lambda info, b: badge_visible(info, b.definition))
@strawberry.type(description="A badge members earn when its criterion is met (or a challenge awards it). A secret "
                             "badge is visible only to staff and to members who hold it.")
class Badge(Node):
    definition: strawberry.Private[BadgeRule]
    badge_id: strawberry.ID = strawberry.field(description="The badge's own id (a slug): what `badgeSave` takes.")
    name: str
    description: str
    image_url: str | None
    criterion: BadgeCriterion | None = strawberry.field(
        description="What earns it; null for a badge only a challenge awards.")
    bonus_points: int = strawberry.field(description="Points credited once when it is earned.")
    secret: bool
    available_from: datetime | None = strawberry.field(description="Earned only from then on; null: always.")
    available_until: datetime | None = strawberry.field(description="Earned only before then; null: no end.")

    def node_key(self) -> str:
        return self.definition.id

    @strawberry.field(description="The signed-in member's progress towards it; null for other callers.")
    def my_progress(self, info: strawberry.Info) -> Progress | None:
        member = caller_member(info)
        if member is None:
            return None
        if self.definition.id in member_held(info, member):
            p = Progress.of(Counters(), self.definition.criterion)
            return Progress(current=p.target, target=p.target) if p else None
        return Progress.of(member_counters(info, member), self.definition.criterion)

    @strawberry.field(description="When the signed-in member earned it; null if not (or for other callers).")
    def my_earned_at(self, info: strawberry.Info) -> datetime | None:
        member = caller_member(info)
        held = member_held(info, member).get(self.definition.id) if member else None
        return datetime.fromisoformat(held.earned_at) if held else None

    @classmethod
    def of(cls, b: BadgeRule) -> "Badge":
        return cls(definition=b, badge_id=strawberry.ID(b.id), name=b.name, description=b.description,
                   image_url=b.image_url, criterion=BadgeCriterion.of(b.criterion), bonus_points=b.bonus_points,
                   secret=b.secret, available_from=b.available_from, available_until=b.available_until)


def describe_badge(before: BadgeRule | None, after: BadgeRule) -> dict[str, Any]:
    return {"badgeId": after.id, **change(Badge.of(before) if before else None, Badge.of(after))}


@strawberry.type(description=f"A badge as one member stands with it: held (`earnedAt`) or on the way (`progress`). "
                             f"{EMBEDDED}")
class MemberBadge:
    badge: Badge
    earned_at: datetime | None = strawberry.field(description="When it was earned (for a backfilled badge: when the "
                                                              "member qualified); null while in progress.")
    progress: Progress | None = strawberry.field(description="Towards the criterion; complete for a held badge; "
                                                             "null for a badge without one.")


# -- in-memory lists as connections (infra.pages.list_page) ---------------------------------------------

def badge_catalog(info: Any, first: int | None, after: str | None) -> Connection[Badge]:
    badges = [b for b, _ in catalogs.catalog(info.context.programs).badges.values() if badge_visible(info, b)]
    return connection(info, first, after, lambda size, start: list_page(badges, lambda b: [b.name, b.id], size, start),
                      Badge.of)


def member_badges(info: Any, member_id: str, first: int | None, after: str | None) -> Connection[MemberBadge]:
    """Held badges first (newest first), then visible badges in progress (closest first, then by name)."""
    cat = catalogs.catalog(info.context.programs)
    held = member_held(info, member_id)
    counters = member_counters(info, member_id)
    now = info.context.now()
    rows: list[MemberBadge] = []
    for badge, _ in cat.badges.values():
        award = held.get(badge.id)
        if award is not None:
            p = Progress.of(counters, badge.criterion)
            rows.append(MemberBadge(badge=Badge.of(badge), earned_at=datetime.fromisoformat(award.earned_at),
                                    progress=Progress(current=p.target, target=p.target) if p else None))
        elif not badge.secret and badge.criterion is not None and badge.available_at(now):
            rows.append(MemberBadge(badge=Badge.of(badge), earned_at=None, progress=Progress.of(counters, badge.criterion)))

    def position(r: MemberBadge) -> list[str]:
        if r.earned_at is not None:
            return ["0", f"{9e12 - r.earned_at.timestamp():020.3f}", r.badge.definition.id]
        share = r.progress.current / r.progress.target if r.progress and r.progress.target else 0.0
        return ["1", f"{1 - share:.6f}", r.badge.name, r.badge.definition.id]

    return connection(info, first, after, lambda size, start: list_page(rows, position, size, start), lambda r: r,
                      owner=member_id)


def badge_of(info: Any, badge_id: str | None) -> Badge | None:
    return read(info, Badge, badge_id) if badge_id else None


# -- streaks ----------------------------------------------------------------------------------------

@strawberry.type(description=f"Consecutive periods with at least one event, in the program's time zone. {EMBEDDED}")
class Streak:
    current: int = strawberry.field(description="The run still alive now: it counts until a whole period has passed "
                                                "without an event (then 0).")
    best: int
    last_period: str | None = strawberry.field(description="The last period with an event: `2026-11` or `2026-W48`.")


@strawberry.type(description=f"A member's streaks. {EMBEDDED}")
class Streaks:
    purchase_months: Streak = strawberry.field(description="Consecutive months with an order.")
    activity_weeks: Streak = strawberry.field(description="Consecutive ISO weeks with an activity (a custom action "
                                                          "credited, a post approved).")


def member_streaks(info: Any, member_id: str) -> Streaks:
    counters = member_counters(info, member_id)
    tz, now = info.context.programs.program().timezone, info.context.now()

    def one(name: str) -> Streak:
        s = counters.streak(name)
        return Streak(current=streak_rules.current_at(s, now, tz), best=s.best, last_period=s.last)

    return Streaks(purchase_months=one(counting.PURCHASE_MONTHS), activity_weeks=one(counting.ACTIVITY_WEEKS))
