"""GraphQL inputs of the points domain and their conversion to domain values."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import strawberry

from domain.errors import ErrorCode, UserError, collect
from domain.members import normalize_email
from domain.points import orders as order_rules
from domain.points import program as program_rules
from domain.points.orders import parse_amount
from resolvers.points.types import EarnBasis, ExpiryMode, Period, ReturnResolution, Rounding, StoreCreditPoints


def aware(at: datetime | None, field: str) -> datetime | None:
    """External timestamps must say their zone; naive ones are ambiguous and refused."""
    if at is None:
        return None
    if at.tzinfo is None:
        raise UserError(ErrorCode.INVALID, "Timestamps need a time zone (e.g. 2026-11-22T10:00:00Z).", field)
    return at.astimezone(timezone.utc)


@strawberry.input
class EarnRateInput:
    currency: str
    unit_amount: Decimal
    points_per_unit: Decimal = Decimal(1)


@strawberry.input
class MultiplierInput:
    factor: Decimal
    category: str | None = None
    sku: str | None = None


@strawberry.input
class CampaignInput:
    name: str
    factor: Decimal
    starts_at: datetime
    ends_at: datetime
    categories: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ActionRuleInput:
    action: str
    points: int
    cap_per_period: int | None = None
    period: Period = program_rules.Period.LIFETIME
    cooldown_seconds: int = 0
    max_return_rate: Decimal | None = None

    def to_domain(self) -> program_rules.ActionRule:
        return program_rules.ActionRule(self.action.strip().lower(), self.points, self.cap_per_period, self.period,
                                        self.cooldown_seconds, self.max_return_rate)


@strawberry.input
class CategoryReturnWindowInput:
    category: str
    days: int


@strawberry.input
class TierMultiplierInput:
    tier: str
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
    timezone: str | None = strawberry.field(
        default=None, description="IANA time zone of the brand's calendar (e.g. \"Asia/Tokyo\"): daily, weekly, "
                                  "monthly and yearly caps and birthdays follow its local days.")

    def applied_to(self, p: program_rules.Program) -> program_rules.Program:
        changes: dict = {}
        if self.earn_rates is not None:
            changes["earn_rates"] = tuple(program_rules.EarnRate(r.currency.strip().upper(), r.unit_amount,
                                                                 r.points_per_unit) for r in self.earn_rates)
        if self.multipliers is not None:
            changes["multipliers"] = tuple(program_rules.Multiplier(m.factor, m.category, m.sku) for m in self.multipliers)
        if self.campaigns is not None:
            changes["campaigns"] = tuple(program_rules.Campaign(
                c.name, c.factor, aware(c.starts_at, "campaigns.startsAt"), aware(c.ends_at, "campaigns.endsAt"),
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
    price: str = strawberry.field(description="Unit price as a decimal string, e.g. \"1200\" or \"19.99\".")
    sku: str | None = None
    product_id: strawberry.ID | None = None
    category: str | None = None


@strawberry.input(description="A paid order from the brand's order system.")
class OrderInput:
    order_id: strawberry.ID
    currency: str
    ordered_at: datetime
    lines: list[OrderLineInput]
    subtotal: str = strawberry.field(description="Goods after discounts, before tax and shipping.")
    total: str = strawberry.field(description="Everything paid, with tax and shipping.")
    member_id: strawberry.ID | None = None
    customer_id: strawberry.ID | None = None
    email: str | None = None
    delivered_at: datetime | None = None

    def to_domain(self) -> order_rules.Order:
        return order_rules.Order(
            id=str(self.order_id), currency=self.currency.strip().upper(),
            ordered_at=aware(self.ordered_at, "orderedAt"),  # type: ignore[arg-type]
            lines=tuple(order_rules.OrderLine(
                id=str(x.id), quantity=x.quantity, price=parse_amount(x.price, f"lines.{i}.price"), sku=x.sku,
                product_id=str(x.product_id) if x.product_id else None, category=x.category)
                for i, x in enumerate(self.lines)),
            subtotal=parse_amount(self.subtotal, "subtotal"), total=parse_amount(self.total, "total"),
            customer_id=str(self.customer_id) if self.customer_id else None,
            email=normalize_email(self.email) if self.email else None,
            member_id=str(self.member_id) if self.member_id else None,
            delivered_at=aware(self.delivered_at, "deliveredAt"),
        )


@strawberry.input
class ReturnedLineInput:
    line_item_id: strawberry.ID
    amount: str = strawberry.field(description="Money refunded for this line (goods, before tax).")


@strawberry.input(description="A return or refund of some of an order's lines, and how it was resolved.")
class OrderReturnInput:
    order_id: strawberry.ID
    return_id: strawberry.ID
    resolution: ReturnResolution
    lines: list[ReturnedLineInput] = strawberry.field(default_factory=list)

    def to_domain(self) -> order_rules.ReturnRequest:
        collect(order_rules.check_external_id(str(self.order_id), "orderId"),
                order_rules.check_external_id(str(self.return_id), "returnId"))
        return order_rules.ReturnRequest(
            order_id=str(self.order_id), return_id=str(self.return_id), resolution=self.resolution,
            lines=tuple(order_rules.ReturnedLine(str(x.line_item_id), parse_amount(x.amount, f"lines.{i}.amount"))
                        for i, x in enumerate(self.lines)))
