"""GraphQL shapes of the points ledger, the program, rewards and coupons."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.points import balance as balance_rules
from domain.points import orders as order_rules
from domain.points import program as program_rules
from domain.points import rewards as reward_rules
from domain.points.lots import ExpiringSoon as ExpiringSoonRule
from infra.points.items import AuditEntry as AuditItem
from infra.points.items import LedgerEntry
from infra.points.rewards import Redemption as RedemptionRecord

EntryType = strawberry.enum(balance_rules.EntryType, description="What caused a points change.")
EntryStatus = strawberry.enum(balance_rules.EntryStatus)
RewardKind = strawberry.enum(reward_rules.RewardKind)
CouponStatus = strawberry.enum(reward_rules.CouponStatus)
Rounding = strawberry.enum(program_rules.Rounding)
EarnBasis = strawberry.enum(program_rules.EarnBasis)
Period = strawberry.enum(program_rules.Period)
ExpiryMode = strawberry.enum(program_rules.ExpiryMode)
StoreCreditPoints = strawberry.enum(program_rules.StoreCreditPoints)
ReturnResolution = strawberry.enum(order_rules.ReturnResolution)


@strawberry.type(description="Points that will expire soon, and when.")
class ExpiringSoon:
    points: int
    at: datetime

    @classmethod
    def of(cls, e: ExpiringSoonRule | None) -> "ExpiringSoon | None":
        return cls(points=e.points, at=e.at) if e else None


@strawberry.type(description="One ledger entry. The sum of a member's entries is available + pending - debt.")
class PointsEntry:
    id: strawberry.ID
    type: EntryType
    points: int
    status: EntryStatus
    reason: str | None
    source: str | None
    order_id: strawberry.ID | None
    reward_id: strawberry.ID | None
    coupon_code: str | None
    created_at: datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> "PointsEntry":
        return cls(id=strawberry.ID(e.SK.removeprefix("TX#")), type=balance_rules.EntryType(e.entry_type),
                   points=int(e.points), status=balance_rules.EntryStatus(e.status), reason=e.reason, source=e.source,
                   order_id=e.order_id, reward_id=e.reward_id, coupon_code=e.coupon_code,
                   created_at=datetime.fromisoformat(e.created_at))


@strawberry.type
class Reward:
    id: strawberry.ID
    name: str
    description: str
    kind: RewardKind
    points_cost: int
    value: Decimal | None
    currency: str | None
    product_sku: str | None
    tier_gate: str | None
    stock_total: int | None
    per_member_limit: int | None
    active_from: datetime | None
    active_until: datetime | None
    active: bool

    @classmethod
    def of(cls, r: reward_rules.Reward) -> "Reward":
        return cls(id=strawberry.ID(r.id), name=r.name, description=r.description, kind=r.kind,
                   points_cost=r.points_cost, value=r.value, currency=r.currency, product_sku=r.product_sku,
                   tier_gate=r.tier_gate, stock_total=r.stock_total, per_member_limit=r.per_member_limit,
                   active_from=r.active_from, active_until=r.active_until, active=r.active)


@strawberry.type(description="A redeemed reward: the coupon code the storefront applies at checkout.")
class Redemption:
    code: str
    member_id: strawberry.ID
    reward: Reward
    points: int
    status: CouponStatus
    created_at: datetime
    consumed_at: datetime | None
    order_id: strawberry.ID | None

    @classmethod
    def of(cls, r: RedemptionRecord) -> "Redemption":
        return cls(code=r.code, member_id=strawberry.ID(r.member_id), reward=Reward.of(r.reward), points=r.points,
                   status=r.status, created_at=datetime.fromisoformat(r.created_at),
                   consumed_at=datetime.fromisoformat(r.consumed_at) if r.consumed_at else None,
                   order_id=r.order_id)


@strawberry.type
class EarnRate:
    currency: str
    unit_amount: Decimal
    points_per_unit: Decimal


@strawberry.type
class Multiplier:
    factor: Decimal
    category: str | None
    sku: str | None


@strawberry.type
class Campaign:
    name: str
    factor: Decimal
    starts_at: datetime
    ends_at: datetime
    categories: list[str]


@strawberry.type
class ActionRule:
    action: str
    points: int
    cap_per_period: int | None
    period: Period
    cooldown_seconds: int
    max_return_rate: Decimal | None


@strawberry.type
class CategoryReturnWindow:
    category: str
    days: int


@strawberry.type
class TierMultiplier:
    tier: str
    factor: Decimal


@strawberry.type(description="The points program's configuration.")
class Program:
    earn_rates: list[EarnRate]
    rounding: Rounding
    basis: EarnBasis
    multipliers: list[Multiplier]
    campaigns: list[Campaign]
    actions: list[ActionRule]
    return_window_days: int
    category_return_windows: list[CategoryReturnWindow]
    expiry_mode: ExpiryMode
    expiry_months: int
    expiring_soon_days: int
    exchange_bonus_points: int
    exchange_bonus_max_return_rate: Decimal | None
    store_credit_points: StoreCreditPoints
    return_rate_window_days: int
    tier_multipliers: list[TierMultiplier]
    timezone: str = strawberry.field(description="IANA time zone of the brand's calendar.")

    @classmethod
    def of(cls, p: program_rules.Program) -> "Program":
        return cls(
            earn_rates=[EarnRate(currency=r.currency, unit_amount=r.unit_amount, points_per_unit=r.points_per_unit)
                        for r in p.earn_rates],
            rounding=p.rounding, basis=p.basis,
            multipliers=[Multiplier(factor=m.factor, category=m.category, sku=m.sku) for m in p.multipliers],
            campaigns=[Campaign(name=c.name, factor=c.factor, starts_at=c.starts_at, ends_at=c.ends_at,
                                categories=list(c.categories)) for c in p.campaigns],
            actions=[ActionRule(action=a.action, points=a.points, cap_per_period=a.cap_per_period, period=a.period,
                                cooldown_seconds=a.cooldown_seconds, max_return_rate=a.max_return_rate)
                     for a in p.actions],
            return_window_days=p.return_window_days,
            category_return_windows=[CategoryReturnWindow(category=c, days=d) for c, d in p.category_return_window_days],
            expiry_mode=p.expiry_mode, expiry_months=p.expiry_months, expiring_soon_days=p.expiring_soon_days,
            exchange_bonus_points=p.exchange_bonus_points,
            exchange_bonus_max_return_rate=p.exchange_bonus_max_return_rate, store_credit_points=p.store_credit_points,
            return_rate_window_days=p.return_rate_window_days,
            tier_multipliers=[TierMultiplier(tier=t, factor=f) for t, f in p.tier_multipliers],
            timezone=p.timezone,
        )


@strawberry.type(description="Share of a member's recent orders that came back.")
class ReturnRate:
    orders: int
    returns: int
    rate: Decimal
    window_days: int


@strawberry.type
class AuditRecord:
    at: datetime
    actor: str
    action: str
    member_id: strawberry.ID | None
    reason: str | None
    detail: strawberry.scalars.JSON

    @classmethod
    def of(cls, a: AuditItem) -> "AuditRecord":
        return cls(at=datetime.fromisoformat(a.at), actor=a.actor, action=a.action, member_id=a.member_id,
                   reason=a.reason, detail=a.detail)
