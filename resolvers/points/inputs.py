"""GraphQL inputs of the points domain and their conversion to domain values."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.points import orders as order_rules
from domain.points import program as program_rules
from domain import bounds
from resolvers.nodes import unwrap
from resolvers.partial import apply, updatable
from resolvers.scalars import bounded
from resolvers.points.types import EarnBasis, ExpiryMode, Period, Rounding, StoreCreditPoints


@strawberry.input
class EarnRateInput:
    currency: str = bounded(bounds.CURRENCY)
    unit_amount: Decimal
    points_per_unit: Decimal = Decimal(1)


@strawberry.input
class MultiplierInput:
    factor: Decimal
    category: str | None = bounded(bounds.LABEL, default=None)
    sku: str | None = bounded(bounds.LABEL, default=None)


@strawberry.input
class CampaignInput:
    name: str = bounded(bounds.LABEL)
    factor: Decimal
    starts_at: datetime
    ends_at: datetime
    categories: list[str] = bounded(bounds.LABEL, default_factory=list)


@strawberry.input
class ActionRuleInput:
    action: str = bounded(bounds.ACTION)
    points: int
    cap_per_period: int | None = None
    period: Period = program_rules.Period.LIFETIME
    cooldown_seconds: int = 0
    max_return_rate: Decimal | None = None

    def to_domain(self) -> program_rules.ActionRule:
        return program_rules.ActionRule(self.action, self.points, self.cap_per_period, self.period,
                                        self.cooldown_seconds, self.max_return_rate)


@strawberry.input
class CategoryReturnWindowInput:
    category: str = bounded(bounds.LABEL)
    days: int


@strawberry.input
class TierMultiplierInput:
    tier: str = bounded(bounds.LABEL)
    factor: Decimal


def _earn_rates(rates: list[EarnRateInput]) -> tuple[program_rules.EarnRate, ...]:
    return tuple(program_rules.EarnRate(r.currency, r.unit_amount, r.points_per_unit) for r in rates)


def _multipliers(ms: list[MultiplierInput]) -> tuple[program_rules.Multiplier, ...]:
    return tuple(program_rules.Multiplier(m.factor, m.category, m.sku) for m in ms)


def _campaigns(cs: list[CampaignInput]) -> tuple[program_rules.Campaign, ...]:
    return tuple(program_rules.Campaign(c.name, c.factor, c.starts_at, c.ends_at, tuple(c.categories)) for c in cs)


LIST = "The whole list is replaced; null or [] removes every entry."


@strawberry.input(description="Only the fields given change: a field left out keeps its value, null clears it where "
                              "the field says it can be cleared, lists replace the whole list.")
class ProgramInput:
    earn_rates: list[EarnRateInput] | None = updatable(clearable=True, description=LIST)
    rounding: Rounding | None = updatable(clearable=False)
    basis: EarnBasis | None = updatable(clearable=False)
    multipliers: list[MultiplierInput] | None = updatable(clearable=True, description=LIST)
    campaigns: list[CampaignInput] | None = updatable(clearable=True, description=LIST)
    actions: list[ActionRuleInput] | None = updatable(clearable=True, description=LIST)
    return_window_days: int | None = updatable(clearable=False)
    category_return_windows: list[CategoryReturnWindowInput] | None = updatable(clearable=True, description=LIST)
    expiry_mode: ExpiryMode | None = updatable(clearable=False)
    expiry_months: int | None = updatable(clearable=False)
    expiring_soon_days: int | None = updatable(clearable=False)
    exchange_bonus_points: int | None = updatable(clearable=False)
    exchange_bonus_max_return_rate: Decimal | None = updatable(
        clearable=True, description="No exchange bonus for members whose return rate (this exchange included) is "
                                    "above this share, e.g. 0.5; null: no limit.")
    store_credit_points: StoreCreditPoints | None = updatable(clearable=False)
    return_rate_window_days: int | None = updatable(clearable=False)
    tier_multipliers: list[TierMultiplierInput] | None = updatable(clearable=True, description=LIST)
    timezone: str | None = updatable(
        clearable=False, bound=bounds.LABEL,
        description="IANA time zone of the brand's calendar (e.g. \"Asia/Tokyo\"): daily, weekly, monthly and "
                    "yearly caps and birthdays follow its local days.")
    public: bool | None = updatable(
        clearable=False, description="True lets callers without a token read `programSummary` and `rewards`.")

    def applied_to(self, p: program_rules.Program) -> program_rules.Program:
        return apply(p, self, convert={
            "earn_rates": _earn_rates, "multipliers": _multipliers, "campaigns": _campaigns,
            "actions": lambda actions: tuple(a.to_domain() for a in actions),
            "category_return_windows": lambda ws: tuple((w.category, w.days) for w in ws),
            "tier_multipliers": lambda ts: tuple((t.tier, t.factor) for t in ts),
        }, target={"category_return_windows": "category_return_window_days"}, validate=program_rules.validate,
            cleared={name: () for name in ("earn_rates", "multipliers", "campaigns", "actions",
                                           "category_return_windows", "tier_multipliers")})


@strawberry.input
class OrderLineInput:
    id: strawberry.ID
    quantity: int
    price: Decimal = strawberry.field(description="Unit price, e.g. \"1200\" or \"19.99\".")
    sku: str | None = bounded(bounds.LABEL, default=None)
    product_id: strawberry.ID | None = None
    category: str | None = bounded(bounds.LABEL, default=None)


@strawberry.input(description="A paid order from the brand's order system.")
class OrderInput:
    order_id: strawberry.ID
    currency: str = bounded(bounds.CURRENCY)
    ordered_at: datetime
    lines: list[OrderLineInput]
    subtotal: Decimal = strawberry.field(description="Goods after discounts, before tax and shipping.")
    total: Decimal = strawberry.field(description="Everything paid, with tax and shipping.")
    member_id: strawberry.ID | None = bounded(bounds.REFERENCE, default=None)
    customer_id: strawberry.ID | None = None
    email: str | None = bounded(bounds.EMAIL, default=None)
    delivered_at: datetime | None = None

    def to_domain(self) -> order_rules.Order:
        return order_rules.Order(
            id=self.order_id, currency=self.currency, ordered_at=self.ordered_at,
            lines=tuple(order_rules.OrderLine(id=x.id, quantity=x.quantity, price=x.price, sku=x.sku,
                                              product_id=x.product_id, category=x.category) for x in self.lines),
            subtotal=self.subtotal, total=self.total, customer_id=self.customer_id, email=self.email,
            member_id=unwrap(self.member_id, "Member") if self.member_id else None,
            delivered_at=self.delivered_at,
        )

# The return inputs (OrderReturnInput, ReturnedLineInput) live in resolvers/points/returns_types.py.
