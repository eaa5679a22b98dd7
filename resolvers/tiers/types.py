"""GraphQL shapes of tiers: the ladder's tiers and their benefits, and a member's tier."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from domain.tiers import ladder as rules
from domain.tiers import status as tier_rules
from infra.items import MemberProfile
from infra.tiers.history import TierChange, history
from infra.tiers.state import state_of
from resolvers.context import Info
from resolvers.nodes import Node, node_type
from resolvers.pagination import Connection, connection
from resolvers.permissions import can_read_catalog

BenefitType = strawberry.enum(rules.BenefitType, description="What a tier benefit gives.")
TierBasis = strawberry.enum(rules.Basis, name="TierBasis", description="What qualifies for tiers.")
QualificationPeriod = strawberry.enum(rules.QualificationPeriod, description="Over which period qualification counts.")
DowngradePolicy = strawberry.enum(rules.DowngradePolicy, description="What a period end does to a member whose "
                                                                     "qualification no longer supports their tier.")
TierSource = strawberry.enum(tier_rules.Source, name="TierSource", description="Why the member holds their tier.")
ManualTierMode = strawberry.enum(tier_rules.ManualMode, name="ManualTierMode",
                                 description="FLOOR: at least this tier; OVERRIDE: exactly this tier.")


@strawberry.enum(description="What changed a member's tier.")
class TierChangeCause(Enum):
    CREDIT = "CREDIT"
    REVERSAL = "REVERSAL"
    PERIOD_END = "PERIOD_END"
    GRACE_END = "GRACE_END"
    STAFF = "STAFF"
    STAFF_EXPIRY = "STAFF_EXPIRY"
    RECALCULATION = "RECALCULATION"


@strawberry.type(description="One benefit of a tier, as structured data a storefront can act on. An embedded value "
                             "of its tier.")
class TierBenefit:
    type: BenefitType
    multiplier: Decimal | None = strawberry.field(description="POINTS_MULTIPLIER: the factor on order points.")
    hours: int | None = strawberry.field(description="EARLY_ACCESS: hours before a reward opens to everyone.")
    points: int | None = strawberry.field(description="BIRTHDAY_GIFT: points on the member's birthday.")
    key: str | None = strawberry.field(description="CUSTOM: the benefit's key.")
    value: str | None = strawberry.field(description="CUSTOM: its value.")
    description: str | None

    @classmethod
    def of(cls, b: rules.Benefit) -> "TierBenefit":
        return cls(type=b.type, multiplier=b.multiplier, hours=b.hours, points=b.points, key=b.key, value=b.value,
                   description=b.description)


def _ladder_tier(info: Any, key: str) -> "Tier | None":
    ladder = info.context.programs.program().tiers.at(info.context.now())
    found = ladder.by_id(key) if ladder else None
    return Tier.of(found, ladder) if found else None


@node_type(load=_ladder_tier, may_ask=lambda info, key: can_read_catalog(info))
@strawberry.type(description="A tier of the program's ladder.")
class Tier(Node):
    tier_id: strawberry.ID = strawberry.field(description="The tier's own id (rewards' `requiresTier` names it).")
    name: str
    rank: int = strawberry.field(description="1 is the lowest; a reward for rank 2 is for rank 2 and above.")
    threshold: Decimal = strawberry.field(description="Qualification needed within the period (points or spend, as "
                                                      "the ladder's basis says).")
    benefits: list[TierBenefit]
    entry_points: int = strawberry.field(description="Points credited once, the first time a member reaches it.")

    def node_key(self) -> str:
        return str(self.tier_id)

    @classmethod
    def of(cls, t: rules.Tier, ladder: rules.Ladder | None = None) -> "Tier":
        return cls(tier_id=strawberry.ID(t.id), name=t.name, rank=t.rank, threshold=t.threshold,
                   benefits=[TierBenefit.of(b) for b in t.benefits], entry_points=t.entry_points)


@strawberry.type(description="The program's tier ladder and its rules. An embedded value of the program.")
class TierLadder:
    tiers: list[Tier] = strawberry.field(description="Lowest rank first (at most 12).")
    basis: TierBasis
    currency: str | None = strawberry.field(description="SPEND: only orders in this currency qualify.")
    period: QualificationPeriod
    policy: DowngradePolicy
    grace_days: int
    risk_days: int = strawberry.field(description="Days before a period end that `tier.at_risk` events go out.")
    qualifying_actions: list[str] = strawberry.field(description="Action rules whose points qualify.")
    next_takes_over_at: datetime | None = strawberry.field(
        description="When an edited ladder, saved to apply from the next period, replaces this one.")

    @classmethod
    def of(cls, ladder: rules.Ladder, next_from: datetime | None = None) -> "TierLadder":
        return cls(tiers=[Tier.of(t) for t in ladder.tiers], basis=ladder.basis, currency=ladder.currency,
                   period=ladder.period, policy=ladder.policy, grace_days=ladder.grace_days,
                   risk_days=ladder.risk_days, qualifying_actions=list(ladder.qualifying_actions),
                   next_takes_over_at=next_from)


@strawberry.type(description="The tier above a member's, and what it takes. An embedded value of the member's tier.")
class NextTier:
    tier: Tier
    name: str
    threshold: Decimal


@strawberry.type(description="How far a member is toward the next tier in this period. An embedded value of the "
                             "member's tier.")
class TierProgress:
    qualifying: Decimal = strawberry.field(description="Qualification counted in the current period.")
    needed: Decimal = strawberry.field(description="Still needed for the next tier (0 at the top).")
    percent: Decimal = strawberry.field(description="0-100 toward the next tier; 100 at the top.")
    period_ends_at: datetime | None = strawberry.field(description="When the period ends (null: lifetime).")


@strawberry.type(description="One change of a member's tier and what caused it. An embedded value of the member's "
                             "tier history.")
class TierHistoryEntry:
    at: datetime
    from_tier: str | None = strawberry.field(description="The tier's name before (null: none).")
    to_tier: str | None = strawberry.field(description="The tier's name after (null: none).")
    from_rank: int
    to_rank: int
    cause: TierChangeCause
    entry_id: str | None = strawberry.field(description="CREDIT: the points entry whose credit crossed the threshold.")
    reason: str | None = strawberry.field(description="STAFF: the reason given.")

    @classmethod
    def of(cls, c: TierChange) -> "TierHistoryEntry":
        return cls(at=datetime.fromisoformat(c.at), from_tier=c.from_name, to_tier=c.to_name,
                   from_rank=int(c.from_rank), to_rank=int(c.to_rank), cause=TierChangeCause(c.cause),
                   entry_id=c.entry.removeprefix("TX#") if c.entry else None, reason=c.reason)


def _profile(info: Any, member_id: str) -> MemberProfile | None:
    return next((i for i in info.context.member_card(member_id) if isinstance(i, MemberProfile)), None)


def _load_member_tier(info: Any, member_id: str) -> "MemberTier | None":
    profile = _profile(info, member_id)
    return MemberTier.of(info, profile) if profile else None


@node_type(load=_load_member_tier, may_ask=lambda info, key: info.context.principal.can_read_member(key))
@strawberry.type(description="A member's tier: what it is, what it gives, how far to the next, how long it is kept. "
                             "Its `id` follows the member. Null fields when the program has no ladder.")
class MemberTier(Node):
    member_id: strawberry.Private[str]
    current: Tier | None = strawberry.field(description="Null: below the lowest tier (or no ladder).")
    source: TierSource | None = strawberry.field(description="Why the member holds it.")
    next: NextTier | None = strawberry.field(description="The tier above (null at the top).")
    progress: TierProgress | None
    retained_until: datetime | None = strawberry.field(
        description="The earliest time the tier can be lost if nothing more qualifies (null: not by time).")

    def node_key(self) -> str:
        return self.member_id

    @strawberry.field(description="Tier changes, newest first, each with its cause.")
    def history(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[TierHistoryEntry]:
        tenant = info.context.require_tenant()
        return connection(info, first, after, lambda size, start: history(tenant, self.member_id, size, start),
                          TierHistoryEntry.of, owner=self.member_id)

    @classmethod
    def of(cls, info: Any, profile: MemberProfile) -> "MemberTier":
        ctx = info.context
        program, now = ctx.programs.program(), ctx.now()
        ladder = program.tiers.at(now)
        if ladder is None:
            return cls(member_id=profile.member_id, current=None, source=None, next=None, progress=None,
                       retained_until=None)
        state = state_of(profile)
        s = tier_rules.standing(state, ladder, program.timezone, now)
        p = tier_rules.progress(state, ladder, program.timezone, now, s)
        return cls(member_id=profile.member_id, current=Tier.of(s.tier) if s.tier else None, source=s.source,
                   next=NextTier(tier=Tier.of(p.next), name=p.next.name, threshold=p.next.threshold) if p.next else None,
                   progress=TierProgress(qualifying=p.qualifying, needed=p.needed, percent=p.percent,
                                         period_ends_at=p.period_ends_at),
                   retained_until=s.retained_until)


@strawberry.type(description="What the coming period end will do to one member if nothing more qualifies. An "
                             "embedded value of the staff preview.")
class TierPreview:
    period_ends_at: datetime | None
    qualifying: Decimal = strawberry.field(description="Qualification the period end will count, as of now.")
    tier_now: Tier | None
    tier_after: Tier | None
    policy: DowngradePolicy
    explanation: str
