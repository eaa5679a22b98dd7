"""A program's tier ladder: tiers by rank, what qualifies, over which period, and what happens at its end.

Qualification is never the balance (spending lowers that): it is qualifying points earned, or
qualifying spend in one currency, within a period. Order points qualify; reversals take
qualification back; redemptions and expiry never touch it; staff adjustments and action points
qualify only when they say so (the adjustment's `qualifying` flag, the ladder's `qualifyingActions`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.errors import ErrorCode, UserError, collect

MAX_TIERS = 12
MAX_BENEFITS = 12
MAX_THRESHOLD = Decimal("1000000000000")


class Basis(Enum):
    POINTS = "POINTS"  # qualifying points earned
    SPEND = "SPEND"  # qualifying spend in the ladder's currency


class QualificationPeriod(Enum):
    ROLLING_12_MONTHS = "ROLLING_12_MONTHS"  # the last 12 local months; evaluated at each month end
    CALENDAR_YEAR = "CALENDAR_YEAR"  # the local year; a tier reached in a year is kept through the next
    LIFETIME = "LIFETIME"  # everything ever; no period end, no downgrade


class DowngradePolicy(Enum):
    GRACE = "GRACE"  # keep the tier `graceDays` more, then take the tier the ended period supports
    DROP_ONE = "DROP_ONE"  # at most one rank down per period end
    RECALCULATE = "RECALCULATE"  # the tier the ended period's qualification supports


class BenefitType(Enum):
    POINTS_MULTIPLIER = "POINTS_MULTIPLIER"  # `multiplier` on order earnings
    FREE_SHIPPING = "FREE_SHIPPING"
    EARLY_ACCESS = "EARLY_ACCESS"  # `hours` before a reward or VIP event opens to everyone
    BIRTHDAY_GIFT = "BIRTHDAY_GIFT"  # `points` on the member's birthday
    CUSTOM = "CUSTOM"  # `key` / `value`, for the storefront to act on


@dataclass(frozen=True)
class Benefit:
    type: BenefitType
    multiplier: Decimal | None = None
    hours: int | None = None
    points: int | None = None
    key: str | None = None
    value: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Tier:
    id: str  # stable: rewards, members and history name tiers by id; names and ranks may change
    name: str
    rank: int  # 1 is the lowest
    threshold: Decimal  # qualification needed; the lowest tier may need 0 (everyone)
    benefits: tuple[Benefit, ...] = ()
    entry_points: int = 0  # credited once per member, the first time they reach this tier

    def multiplier(self) -> Decimal:
        return next((b.multiplier for b in self.benefits
                     if b.type is BenefitType.POINTS_MULTIPLIER and b.multiplier is not None), Decimal(1))

    def birthday_gift(self) -> int:
        """Points the birthday job credits members of this tier on their birthday (0: none)."""
        return max((b.points or 0 for b in self.benefits if b.type is BenefitType.BIRTHDAY_GIFT), default=0)

    def early_access_hours(self) -> int:
        return max((b.hours or 0 for b in self.benefits if b.type is BenefitType.EARLY_ACCESS), default=0)


@dataclass(frozen=True)
class Ladder:
    tiers: tuple[Tier, ...]  # sorted by rank
    basis: Basis = Basis.POINTS
    currency: str | None = None  # for SPEND: only orders in this currency qualify
    period: QualificationPeriod = QualificationPeriod.CALENDAR_YEAR
    policy: DowngradePolicy = DowngradePolicy.RECALCULATE
    grace_days: int = 30
    risk_days: int = 14  # TierAtRisk goes out this many days before a period end
    qualifying_actions: tuple[str, ...] = ()  # action rules whose points qualify

    def by_id(self, tier_id: str | None) -> Tier | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def by_rank(self, rank: int) -> Tier | None:
        return next((t for t in self.tiers if t.rank == rank), None)

    def supported(self, qualification: Decimal) -> Tier | None:
        """The highest tier whose threshold the qualification meets; None below the lowest."""
        best = None
        for t in self.tiers:
            if qualification >= t.threshold:
                best = t
        return best

    def above(self, tier: Tier | None) -> Tier | None:
        rank = tier.rank if tier else 0
        return next((t for t in self.tiers if t.rank > rank), None)

    def below(self, tier: Tier) -> Tier | None:
        lower = [t for t in self.tiers if t.rank < tier.rank]
        return lower[-1] if lower else None

    def multipliers_matter(self) -> bool:
        return any(t.multiplier() != 1 for t in self.tiers)


def validate_ladder(ladder: Ladder, field: str = "ladder") -> Ladder:
    """Every problem at once; a valid ladder comes back sorted by rank."""
    problems: list[UserError | None] = []
    tiers = tuple(sorted(ladder.tiers, key=lambda t: t.rank))
    if not 1 <= len(tiers) <= MAX_TIERS:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"A ladder has 1 to {MAX_TIERS} tiers.", f"{field}.tiers"))
    ids, ranks = [t.id for t in tiers], [t.rank for t in tiers]
    if len(set(ids)) != len(ids):
        problems.append(UserError(ErrorCode.INVALID, "Each tier has its own id.", f"{field}.tiers"))
    if len(set(ranks)) != len(ranks) or any(r < 1 for r in ranks):
        problems.append(UserError(ErrorCode.INVALID, "Ranks are distinct whole numbers from 1.", f"{field}.tiers"))
    for i, t in enumerate(ladder.tiers):
        where = f"{field}.tiers.{i}"
        if not Decimal(0) <= t.threshold <= MAX_THRESHOLD:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "A threshold is 0 to 10^12.", f"{where}.threshold"))
        if not 0 <= t.entry_points <= 1_000_000:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Entry points are 0 to 1,000,000.", f"{where}.entryPoints"))
        if len(t.benefits) > MAX_BENEFITS:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"A tier has at most {MAX_BENEFITS} benefits.",
                                      f"{where}.benefits"))
        for j, b in enumerate(t.benefits):
            problems.append(_check_benefit(b, f"{where}.benefits.{j}"))
    for lower, higher in zip(tiers, tiers[1:]):
        if higher.threshold <= lower.threshold:
            problems.append(UserError(ErrorCode.INVALID, "A higher rank needs a higher threshold.", f"{field}.tiers"))
            break
    if ladder.basis is Basis.SPEND and not ladder.currency:
        problems.append(UserError(ErrorCode.REQUIRED, "A spend ladder names its currency.", f"{field}.currency"))
    if not 0 <= ladder.grace_days <= 366:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Grace is 0 to 366 days.", f"{field}.graceDays"))
    if not 0 <= ladder.risk_days <= 180:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "The at-risk notice is 0 to 180 days ahead.",
                                  f"{field}.riskDays"))
    collect(*problems)
    return Ladder(tiers=tiers, basis=ladder.basis, currency=ladder.currency, period=ladder.period,
                  policy=ladder.policy, grace_days=ladder.grace_days, risk_days=ladder.risk_days,
                  qualifying_actions=ladder.qualifying_actions)


def _check_benefit(b: Benefit, where: str) -> UserError | None:
    if b.type is BenefitType.POINTS_MULTIPLIER and (b.multiplier is None or not Decimal(1) <= b.multiplier <= 10):
        return UserError(ErrorCode.OUT_OF_RANGE, "A points multiplier is 1 to 10.", f"{where}.multiplier")
    if b.type is BenefitType.EARLY_ACCESS and (b.hours is None or not 1 <= b.hours <= 24 * 90):
        return UserError(ErrorCode.OUT_OF_RANGE, "Early access is 1 hour to 90 days.", f"{where}.hours")
    if b.type is BenefitType.BIRTHDAY_GIFT and (b.points is None or not 1 <= b.points <= 1_000_000):
        return UserError(ErrorCode.OUT_OF_RANGE, "A birthday gift is 1 to 1,000,000 points.", f"{where}.points")
    if b.type is BenefitType.CUSTOM and not (b.key and b.value is not None):
        return UserError(ErrorCode.REQUIRED, "A custom benefit has a key and a value.", f"{where}.key")
    return None


# -- storage form ---------------------------------------------------------------------------------

def _opt(v: Any) -> Any:
    return str(v) if isinstance(v, Decimal) else v


def ladder_to_dict(ladder: Ladder) -> dict[str, Any]:
    return {
        "tiers": [{"id": t.id, "name": t.name, "rank": t.rank, "threshold": str(t.threshold),
                   "entryPoints": t.entry_points,
                   "benefits": [{k: _opt(v) for k, v in (("type", b.type.value), ("multiplier", b.multiplier),
                                                          ("hours", b.hours), ("points", b.points), ("key", b.key),
                                                          ("value", b.value), ("description", b.description))
                                 if v is not None} for b in t.benefits]}
                  for t in ladder.tiers],
        "basis": ladder.basis.value, "currency": ladder.currency, "period": ladder.period.value,
        "policy": ladder.policy.value, "graceDays": ladder.grace_days, "riskDays": ladder.risk_days,
        "qualifyingActions": list(ladder.qualifying_actions),
    }


def ladder_from_dict(d: dict[str, Any]) -> Ladder:
    return Ladder(
        tiers=tuple(Tier(id=t["id"], name=t["name"], rank=int(t["rank"]), threshold=Decimal(t["threshold"]),
                         entry_points=int(t.get("entryPoints", 0)),
                         benefits=tuple(Benefit(BenefitType(b["type"]),
                                                Decimal(b["multiplier"]) if b.get("multiplier") is not None else None,
                                                b.get("hours"), b.get("points"), b.get("key"), b.get("value"),
                                                b.get("description")) for b in t.get("benefits", [])))
                    for t in d["tiers"]),
        basis=Basis(d.get("basis", "POINTS")), currency=d.get("currency"),
        period=QualificationPeriod(d.get("period", "CALENDAR_YEAR")),
        policy=DowngradePolicy(d.get("policy", "RECALCULATE")), grace_days=int(d.get("graceDays", 30)),
        risk_days=int(d.get("riskDays", 14)), qualifying_actions=tuple(d.get("qualifyingActions", [])),
    )


@dataclass(frozen=True)
class LadderSchedule:
    """The ladder in force, and an edited one waiting for the next period to start.

    Editing a ladder never re-tiers anybody on the spot: the edit applies from the next period start
    (each member's current period is judged by the ladder it began under), unless staff run the
    recalculation job, which applies it at once."""

    current: Ladder | None = None
    next: Ladder | None = None
    next_from: datetime | None = None  # the instant the next ladder takes over

    def at(self, when: datetime) -> Ladder | None:
        if self.next is not None and self.next_from is not None and when >= self.next_from:
            return self.next
        return self.current

    def settled(self, when: datetime) -> "LadderSchedule":
        """The same schedule with a due edit moved into force (stored form stays tidy)."""
        if self.next is not None and self.next_from is not None and when >= self.next_from:
            return LadderSchedule(current=self.next)
        return self


def schedule_to_dict(s: LadderSchedule) -> dict[str, Any] | None:
    if s.current is None and s.next is None:
        return None
    return {"current": ladder_to_dict(s.current) if s.current else None,
            "next": ladder_to_dict(s.next) if s.next else None,
            "nextFrom": s.next_from.isoformat() if s.next_from else None}


def schedule_from_dict(d: dict[str, Any] | None) -> LadderSchedule:
    if not d:
        return LadderSchedule()
    return LadderSchedule(current=ladder_from_dict(d["current"]) if d.get("current") else None,
                          next=ladder_from_dict(d["next"]) if d.get("next") else None,
                          next_from=datetime.fromisoformat(d["nextFrom"]) if d.get("nextFrom") else None)
