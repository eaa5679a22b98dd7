"""Inputs of the tier mutations."""
from __future__ import annotations

from decimal import Decimal

import strawberry

from domain import bounds
from domain.tiers import ladder as rules
from resolvers.scalars import bounded
from resolvers.tiers.types import BenefitType, DowngradePolicy, QualificationPeriod, TierBasis


@strawberry.input(description="One benefit: set the field its type uses.")
class TierBenefitInput:
    type: BenefitType
    multiplier: Decimal | None = strawberry.field(default=None, description="POINTS_MULTIPLIER: 1 to 10.")
    hours: int | None = strawberry.field(default=None, description="EARLY_ACCESS: 1 to 2160.")
    points: int | None = strawberry.field(default=None, description="BIRTHDAY_GIFT: 1 to 1,000,000.")
    key: str | None = bounded(bounds.LABEL, default=None, description="CUSTOM: the key.")
    value: str | None = bounded(bounds.TEXT, default=None, description="CUSTOM: the value.")
    description: str | None = bounded(bounds.TEXT, default=None)

    def to_domain(self) -> rules.Benefit:
        return rules.Benefit(self.type, self.multiplier, self.hours, self.points, self.key, self.value,
                             self.description)


@strawberry.input(description="A tier of the ladder.")
class TierInput:
    id: strawberry.ID = bounded(bounds.REFERENCE, description="Stable id, a slug such as `gold`: keep it when "
                                                              "renaming or re-ranking a tier.")
    name: str = bounded(bounds.LABEL)
    rank: int = strawberry.field(description="1 is the lowest; ranks are distinct.")
    threshold: Decimal = strawberry.field(description="Qualification needed in the period; the lowest may be 0.")
    benefits: list[TierBenefitInput] = strawberry.field(default_factory=list)
    entry_points: int = strawberry.field(default=0, description="Credited once, the first time a member reaches it.")

    def to_domain(self) -> rules.Tier:
        return rules.Tier(str(self.id), self.name, self.rank, self.threshold,
                          tuple(b.to_domain() for b in self.benefits), self.entry_points)


@strawberry.input(description="The whole ladder, replacing the one there is.")
class TierLadderInput:
    tiers: list[TierInput]
    basis: TierBasis = rules.Basis.POINTS
    currency: str | None = bounded(bounds.CURRENCY, default=None, description="SPEND: the currency that qualifies.")
    period: QualificationPeriod = rules.QualificationPeriod.CALENDAR_YEAR
    policy: DowngradePolicy = rules.DowngradePolicy.RECALCULATE
    grace_days: int = 30
    risk_days: int = strawberry.field(default=14, description="Days ahead of a period end for `tier.at_risk`.")
    qualifying_actions: list[str] = bounded(bounds.ACTION, default_factory=list,
                                            description="Action rules whose points qualify.")

    def to_domain(self) -> rules.Ladder:
        return rules.Ladder(tuple(t.to_domain() for t in self.tiers), self.basis, self.currency, self.period,
                            self.policy, self.grace_days, self.risk_days, tuple(self.qualifying_actions))
