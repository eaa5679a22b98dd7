"""GraphQL inputs of the points domain and their conversion to domain values."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import strawberry

from domain.points import orders as order_rules
from domain.points import program as program_rules
from domain import bounds
from resolvers.scalars import bounded
from resolvers.points.types import EarnBasis, ExpiryMode, Period, ReturnResolution, Rounding, StoreCreditPoints


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


@strawberry.input(description="Only the sections given change; lists replace the whole list.")
class ProgramInput:
    earn_rates: list[EarnRateInput] | None = None
    rounding: Rounding | None = None
    basis: EarnBasis | None = None
    multipliers: list[MultiplierInput] | None = None
    campaigns: list[CampaignInput] | None = None
    actions: list[ActionRuleInput] | None = None
    return_window_days: int | None = None
    category_return_windows: list[CategoryReturnWindowInput] | None = None
    expiry_mode: ExpiryMode | None = None
    expiry_months: int | None = None
    expiring_soon_days: int | None = None
    exchange_bonus_points: int | None = None
    exchange_bonus_max_return_rate: Decimal | None = strawberry.field(
        default=None, description="No exchange bonus for members whose return rate (this exchange included) is "
                                  "above this share, e.g. 0.5; 1 lets everyone have it.")
    store_credit_points: StoreCreditPoints | None = None
    return_rate_window_days: int | None = None
    tier_multipliers: list[TierMultiplierInput] | None = None
    timezone: str | None = bounded(
        bounds.LABEL, default=None, description="IANA time zone of the brand's calendar (e.g. \"Asia/Tokyo\"): daily, "
                                                "weekly, monthly and yearly caps and birthdays follow its local days.")

    def applied_to(self, p: program_rules.Program) -> program_rules.Program:
        changes: dict = {}
        if self.earn_rates is not None:
            changes["earn_rates"] = tuple(program_rules.EarnRate(r.currency, r.unit_amount,
                                                                 r.points_per_unit) for r in self.earn_rates)
        if self.multipliers is not None:
            changes["multipliers"] = tuple(program_rules.Multiplier(m.factor, m.category, m.sku) for m in self.multipliers)
        if self.campaigns is not None:
            changes["campaigns"] = tuple(program_rules.Campaign(
                c.name, c.factor, c.starts_at, c.ends_at,
                tuple(c.categories)) for c in self.campaigns)
        if self.actions is not None:
            changes["actions"] = tuple(a.to_domain() for a in self.actions)
        if self.category_return_windows is not None:
            changes["category_return_window_days"] = tuple((w.category, w.days) for w in self.category_return_windows)
        if self.tier_multipliers is not None:
            changes["tier_multipliers"] = tuple((t.tier, t.factor) for t in self.tier_multipliers)
        for name in ("rounding", "basis", "return_window_days", "expiry_mode", "expiry_months", "expiring_soon_days",
                     "exchange_bonus_points", "exchange_bonus_max_return_rate", "store_credit_points",
                     "return_rate_window_days", "timezone"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        return replace(p, **changes)


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
    member_id: strawberry.ID | None = None
    customer_id: strawberry.ID | None = None
    email: str | None = bounded(bounds.EMAIL, default=None)
    delivered_at: datetime | None = None

    def to_domain(self) -> order_rules.Order:
        return order_rules.Order(
            id=self.order_id, currency=self.currency, ordered_at=self.ordered_at,
            lines=tuple(order_rules.OrderLine(id=x.id, quantity=x.quantity, price=x.price, sku=x.sku,
                                              product_id=x.product_id, category=x.category) for x in self.lines),
            subtotal=self.subtotal, total=self.total, customer_id=self.customer_id, email=self.email,
            member_id=self.member_id, delivered_at=self.delivered_at,
        )


@strawberry.input
class ReturnedLineInput:
    line_item_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Money refunded for this line (goods, before tax).")


@strawberry.input(description="A return or refund of some of an order's lines, and how it was resolved.")
class OrderReturnInput:
    order_id: strawberry.ID
    return_id: strawberry.ID
    resolution: ReturnResolution
    lines: list[ReturnedLineInput] = strawberry.field(default_factory=list)

    def to_domain(self) -> order_rules.ReturnRequest:
        return order_rules.ReturnRequest(
            order_id=self.order_id, return_id=self.return_id, resolution=self.resolution,
            lines=tuple(order_rules.ReturnedLine(x.line_item_id, x.amount) for x in self.lines))
