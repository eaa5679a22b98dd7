"""Orders and what they earn: per-line points on what was paid, the return window, refunds and returns."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import Enum

from domain import bounds
from domain.errors import ErrorCode, UserError, UserErrors, collect
from domain.members import check_email
from domain.points.program import EarnBasis, Program, Rounding, StoreCreditPoints

MAX_LINES = 250
MAX_QUANTITY = 10_000


class ReturnResolution(Enum):
    REFUND = "REFUND"
    EXCHANGE = "EXCHANGE"
    WARRANTY_EXCHANGE = "WARRANTY_EXCHANGE"
    STORE_CREDIT = "STORE_CREDIT"


@dataclass(frozen=True)
class OrderLine:
    id: str
    quantity: int
    price: Decimal  # unit price before order-level discounts
    sku: str | None = None
    product_id: str | None = None
    category: str | None = None

    @property
    def gross(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True)
class Order:
    """A paid order as the brand's order system reports it (mutation or Shopify-shaped webhook)."""

    id: str
    currency: str
    ordered_at: datetime
    lines: tuple[OrderLine, ...]
    subtotal: Decimal  # goods after discounts, before tax and shipping
    total: Decimal  # what was paid in all
    customer_id: str | None = None
    email: str | None = None
    member_id: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class LinePoints:
    """One line's share of the order's points and of what was paid for it, and what came back of it.

    Returns are checked against what is left of the line: `quantity - returned_quantity` units and
    `refundable - returned` money. `refunded` (at most `paid`) is the part of the money the points
    follow: store credit that keeps the points counts toward `returned` only."""

    line_id: str
    category: str | None
    paid: Decimal  # the line's share of the earning basis
    points: int
    refunded: Decimal = Decimal(0)
    reversed: int = 0
    quantity: int | None = None  # None: recorded before quantities were kept (then not checked)
    gross: Decimal | None = None  # unit price times quantity, before order-level discounts
    returned: Decimal = Decimal(0)  # money given back for the line, by refund or store credit
    returned_quantity: int = 0

    @property
    def refundable(self) -> Decimal:
        """The most a line's refunds can add up to: its price times its quantity. A discount is spread
        over the lines in proportion (`paid`), but the order system may have placed it on other lines,
        so a true refund of this one can be up to the undiscounted price; and under the "total" basis
        the share of what was paid includes tax and shipping: whichever is larger."""
        return self.paid if self.gross is None else max(self.gross, self.paid)

    @property
    def amount_left(self) -> Decimal:
        return max(self.refundable - self.returned, Decimal(0))

    @property
    def quantity_left(self) -> int | None:
        return None if self.quantity is None else max(self.quantity - self.returned_quantity, 0)

    @property
    def points_left(self) -> int:
        return self.points - self.reversed


@dataclass(frozen=True)
class OrderEarning:
    points: int
    lines: tuple[LinePoints, ...]
    release_at: datetime


def parse_amount(raw: object, field_name: str) -> Decimal:
    """An amount from a payload: the shared decimal bound (finite, 12 digits before the point, 6 after)."""
    return bounds.value_or_raise(bounds.check_decimal(str(raw)), field_name)


def check_external_id(value: str, field_name: str) -> UserError | None:
    return bounds.problem(bounds.IDENTIFIER.check(value or ""), field_name)


def validate_order(order: Order, program: Program) -> Order:
    """Reject what cannot be a real paid order before anything is written."""
    problems: list[UserError | None] = [check_external_id(order.id, "orderId")]
    if not order.lines:
        problems.append(UserError(ErrorCode.REQUIRED, "An order has at least one line.", "lines"))
    if len(order.lines) > MAX_LINES:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"An order has at most {MAX_LINES} lines.", "lines"))
    for i, line in enumerate(order.lines):
        problems.append(check_external_id(line.id, f"lines.{i}.id"))
        if line.product_id is not None:
            problems.append(check_external_id(line.product_id, f"lines.{i}.productId"))
        if not 1 <= line.quantity <= MAX_QUANTITY:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Quantity is 1 to 10,000.", f"lines.{i}.quantity"))
        if line.price < 0 or line.price > program.max_order_amount:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Line price is out of range.", f"lines.{i}.price"))
    if len({line.id for line in order.lines}) != len(order.lines):
        problems.append(UserError(ErrorCode.INVALID, "Line ids must be unique.", "lines"))
    for name, amount in (("subtotal", order.subtotal), ("total", order.total)):
        if amount < 0 or amount > program.max_order_amount:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"The {name} is out of range.", name))
    if order.subtotal > order.total:
        problems.append(UserError(ErrorCode.INVALID, "The subtotal cannot exceed the total.", "subtotal"))
    # The order system's ids and the email become keys: the shared bounds, whatever the order came through.
    for name, value in (("memberId", order.member_id), ("customerId", order.customer_id)):
        if value is not None:
            problems.append(check_external_id(value, name))
    if order.email is not None:
        problems.append(check_email(order.email, "email"))
    problems += [bounds.moment_problem(order.ordered_at, "orderedAt"),
                 bounds.moment_problem(order.delivered_at, "deliveredAt")]
    if order.email is None and order.member_id is None and order.customer_id is None:
        problems.append(UserError(ErrorCode.REQUIRED, "Name the member, or give the customer's email.", "email"))
    try:
        program.rate_for(order.currency)
    except UserError as e:
        problems.append(e)
    collect(*problems)
    return order


def _round(value: Decimal, rounding: Rounding) -> int:
    mode = {Rounding.DOWN: ROUND_FLOOR, Rounding.HALF_UP: ROUND_HALF_UP, Rounding.UP: ROUND_CEILING}[rounding]
    return int(value.to_integral_value(rounding=mode))


def _allocate(total: int, weights: list[Decimal]) -> list[int]:
    """Split `total` whole points over lines in proportion to `weights`; shares sum to `total` exactly."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exact]
    leftover = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (exact[i] - shares[i], -i), reverse=True)
    for i in by_remainder[:leftover]:
        shares[i] += 1
    return shares


def _paid_shares(order: Order, program: Program) -> list[Decimal]:
    """The earning basis (goods after discounts by default) spread over lines by their share of the price."""
    basis_total = order.subtotal if program.basis is EarnBasis.GOODS_AFTER_DISCOUNTS else order.total
    gross = [line.gross for line in order.lines]
    gross_sum = sum(gross) or Decimal(1)
    return [basis_total * g / gross_sum for g in gross]


def _line_points(line: OrderLine, paid: Decimal, points: int) -> LinePoints:
    return LinePoints(line_id=line.id, category=line.category, paid=paid.quantize(Decimal("0.0001")), points=points,
                      quantity=line.quantity, gross=line.gross)


def order_lines(order: Order, program: Program) -> tuple[LinePoints, ...]:
    """An order's lines as returns are checked against them, before any points are known (a held order)."""
    return tuple(_line_points(line, amount, 0) for line, amount in zip(order.lines, _paid_shares(order, program)))


def earn(order: Order, program: Program, tier: str | None = None) -> OrderEarning:
    """Points for a paid order: the basis (goods after discounts by default) spread over lines by
    their share of the price, each line times its multipliers, rounded once for the whole order."""
    rate = program.rate_for(order.currency)
    paid = _paid_shares(order, program)
    tier_factor = program.tier_factor(tier)
    exact: list[Decimal] = []
    for line, amount in zip(order.lines, paid):
        factor = max((m.factor for m in program.multipliers if m.matches(line.sku, line.category)),
                     default=Decimal(1))
        for campaign in program.campaigns:
            if campaign.applies(order.ordered_at, line.category):
                factor *= campaign.factor
        exact.append(amount / rate.unit_amount * rate.points_per_unit * factor * tier_factor)
    total_points = max(_round(sum(exact), program.rounding), 0)
    shares = _allocate(total_points, exact)
    lines = tuple(_line_points(line, amount, share) for line, amount, share in zip(order.lines, paid, shares))
    return OrderEarning(points=total_points, lines=lines, release_at=release_at(order, program))


def release_at(order: Order, program: Program) -> datetime:
    """Pending points are held until the return window closes: from delivery, else from the order date."""
    start = order.delivered_at or order.ordered_at
    days = max((program.window_days_for(line.category) for line in order.lines), default=program.return_window_days)
    return start + timedelta(days=days)


@dataclass(frozen=True)
class ReturnedLine:
    line_id: str
    amount: Decimal  # the money refunded for this line (goods, before tax)
    quantity: int | None = None  # units returned; None: not said (only the amount is checked)


@dataclass(frozen=True)
class Reversal:
    """Points to take back for a return, and the order's lines as they stand after it."""

    points: int
    lines: tuple[LinePoints, ...]


class ReturnRefused(UserErrors):
    """A return that does not fit what is left of the order's lines; `lines` are as they stand."""

    def __init__(self, errors: list[UserError], lines: tuple[LinePoints, ...]):
        super().__init__(errors)
        self.lines = lines


def returns_money(resolution: ReturnResolution) -> bool:
    """Refunds and store credit give the line's money back and use up what is left of it; an
    exchange (warranty or not) leaves the customer with goods of the line, so it uses up nothing."""
    return resolution in (ReturnResolution.REFUND, ReturnResolution.STORE_CREDIT)


def _money(value: Decimal) -> str:
    return f"{value.normalize():,f}" if value != value.to_integral_value() else f"{value.to_integral_value():,}"


def return_shape_problems(returned: tuple[ReturnedLine, ...]) -> list[UserError]:
    """What is wrong with a return whatever the order: negative amounts, impossible quantities."""
    problems = []
    for i, r in enumerate(returned):
        if r.amount < 0:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Refunded amounts cannot be negative.", f"lines.{i}.amount"))
        if r.quantity is not None and not 0 <= r.quantity <= MAX_QUANTITY:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "A returned quantity is 0 to 10,000.",
                                      f"lines.{i}.quantity"))
    return problems


def apply_return(lines: tuple[LinePoints, ...], returned: tuple[ReturnedLine, ...], resolution: ReturnResolution,
                 reverse_points: bool) -> Reversal:
    """Check a return against what is left of each line, then use it up (refunds and store credit)
    and take back the points it reverses. Every problem is reported at once (ReturnRefused, with the
    lines as they stand); a line named twice counts with both amounts.

    Points follow the money, cumulatively, so partial refunds never round points away: after refunds
    totalling what was paid for a line, exactly its points are reversed, never more."""
    by_id = {line.line_id: line for line in lines}
    problems = return_shape_problems(returned)
    asked_amount: dict[str, Decimal] = {}
    asked_quantity: dict[str, int] = {}
    over_amount: set[str] = set()
    over_quantity: set[str] = set()
    for i, r in enumerate(returned):
        line = by_id.get(r.line_id)
        if line is None:
            problems.append(UserError(ErrorCode.NOT_FOUND, f"The order has no line {r.line_id}.", f"lines.{i}.lineItemId"))
            continue
        if r.amount >= 0:
            total = asked_amount[r.line_id] = asked_amount.get(r.line_id, Decimal(0)) + r.amount
            if total > line.amount_left and r.line_id not in over_amount:
                over_amount.add(r.line_id)
                problems.append(UserError(
                    ErrorCode.OUT_OF_RANGE,
                    f"Line {r.line_id} has {_money(line.amount_left)} left to return of {_money(line.refundable)} "
                    f"({_money(line.returned)} returned before); this return asks {_money(total)}.",
                    f"lines.{i}.amount"))
        if r.quantity is not None and 0 <= r.quantity <= MAX_QUANTITY and line.quantity is not None:
            count = asked_quantity[r.line_id] = asked_quantity.get(r.line_id, 0) + r.quantity
            left = line.quantity_left or 0
            if count > left and r.line_id not in over_quantity:
                over_quantity.add(r.line_id)
                problems.append(UserError(
                    ErrorCode.OUT_OF_RANGE,
                    f"Line {r.line_id} has {left} of {line.quantity} left to return; this return asks {count}.",
                    f"lines.{i}.quantity"))
    if problems:
        raise ReturnRefused(problems, lines)
    if not returns_money(resolution):
        return Reversal(0, lines)
    updated = dict(by_id)
    total_points = 0
    for r in returned:
        line = updated[r.line_id]
        line = replace(line, returned=line.returned + r.amount,
                       returned_quantity=line.returned_quantity + (r.quantity or 0))
        if reverse_points:
            refunded = min(line.refunded + r.amount, line.paid)
            target = line.points if line.paid == 0 or refunded >= line.paid else int(
                (line.points * refunded / line.paid).to_integral_value(rounding=ROUND_FLOOR))
            delta = max(target - line.reversed, 0)
            total_points += delta
            line = replace(line, refunded=refunded, reversed=line.reversed + delta)
        updated[r.line_id] = line
    return Reversal(points=total_points, lines=tuple(updated[line.line_id] for line in lines))


def refund_reversal(lines: tuple[LinePoints, ...], returned: tuple[ReturnedLine, ...]) -> Reversal:
    """A refund: checked against what is left of each line, its points taken back in proportion."""
    return apply_return(lines, returned, ReturnResolution.REFUND, True)


@dataclass(frozen=True)
class ReturnRate:
    orders: int
    returns: int
    window_days: int

    @property
    def rate(self) -> Decimal:
        return (Decimal(self.returns) / Decimal(self.orders)).quantize(Decimal("0.0001")) if self.orders else Decimal(0)


@dataclass(frozen=True)
class OrderSummary:
    ordered_at: datetime
    returned: bool


def return_rate(orders: list[OrderSummary], now: datetime, window_days: int) -> ReturnRate:
    since = now - timedelta(days=window_days)
    recent = [o for o in orders if o.ordered_at >= since]
    return ReturnRate(orders=len(recent), returns=sum(1 for o in recent if o.returned), window_days=window_days)


def return_rate_decides(resolution: ReturnResolution, program: Program) -> bool:
    """Whether `points_for_return` needs the member's return rate (an exchange bonus with a rate gate)."""
    return (resolution is ReturnResolution.EXCHANGE and program.exchange_bonus_points > 0
            and program.exchange_bonus_max_return_rate is not None)


def points_for_return(resolution: ReturnResolution, program: Program,
                      rate: ReturnRate | None = None) -> tuple[bool, int]:
    """(reverse the refunded lines?, bonus points) for each of the four ways a return ends. The
    exchange bonus is withheld when the member's return `rate` is above the program's gate."""
    if resolution is ReturnResolution.REFUND:
        return True, 0
    if resolution is ReturnResolution.EXCHANGE:
        cap = program.exchange_bonus_max_return_rate
        if cap is not None and rate is not None and rate.rate > cap:
            return False, 0
        return False, program.exchange_bonus_points
    if resolution is ReturnResolution.WARRANTY_EXCHANGE:
        return False, 0
    return program.store_credit_points is StoreCreditPoints.REVERSE, 0


@dataclass(frozen=True)
class ReturnRequest:
    order_id: str
    return_id: str
    resolution: ReturnResolution
    lines: tuple[ReturnedLine, ...] = field(default_factory=tuple)


def release_after_delivery(categories: list[str | None], program: Program, delivered_at: datetime) -> datetime:
    days = max((program.window_days_for(c) for c in categories), default=program.return_window_days)
    return delivered_at + timedelta(days=days)


def order_to_dict(o: Order) -> dict:
    return {
        "id": o.id, "currency": o.currency, "orderedAt": o.ordered_at.isoformat(),
        "lines": [{"id": x.id, "quantity": x.quantity, "price": str(x.price), "sku": x.sku, "productId": x.product_id,
                   "category": x.category} for x in o.lines],
        "subtotal": str(o.subtotal), "total": str(o.total), "customerId": o.customer_id, "email": o.email,
        "memberId": o.member_id, "deliveredAt": o.delivered_at.isoformat() if o.delivered_at else None,
    }


def order_from_dict(d: dict) -> Order:
    return Order(
        id=d["id"], currency=d["currency"], ordered_at=datetime.fromisoformat(d["orderedAt"]),
        lines=tuple(OrderLine(id=x["id"], quantity=int(x["quantity"]), price=Decimal(x["price"]), sku=x.get("sku"),
                              product_id=x.get("productId"), category=x.get("category")) for x in d["lines"]),
        subtotal=Decimal(d["subtotal"]), total=Decimal(d["total"]), customer_id=d.get("customerId"),
        email=d.get("email"), member_id=d.get("memberId"),
        delivered_at=datetime.fromisoformat(d["deliveredAt"]) if d.get("deliveredAt") else None,
    )


def lines_to_json(lines: tuple[LinePoints, ...]) -> list[dict]:
    out = []
    for x in lines:
        line = {"id": x.line_id, "category": x.category, "paid": str(x.paid), "points": x.points,
                "refunded": str(x.refunded), "reversed": x.reversed}
        if x.quantity is not None and x.gross is not None:
            line |= {"quantity": x.quantity, "gross": str(x.gross)}
        # Written once something came back: an order's item (written with its credit) stays small.
        if x.returned:
            line["returned"] = str(x.returned)
        if x.returned_quantity:
            line["returnedQuantity"] = x.returned_quantity
        out.append(line)
    return out


def lines_from_json(data: list[dict]) -> tuple[LinePoints, ...]:
    """Lines stored before returns were checked have no quantity or gross: their `refunded` is what
    came back of them, and only the amount is checked, against `paid`."""
    def line(x: dict) -> LinePoints:
        legacy = x.get("quantity") is None
        return LinePoints(line_id=x["id"], category=x.get("category"), paid=Decimal(x["paid"]), points=int(x["points"]),
                          refunded=Decimal(x.get("refunded", "0")), reversed=int(x.get("reversed", 0)),
                          quantity=None if legacy else int(x["quantity"]),
                          gross=None if legacy else Decimal(x["gross"]),
                          returned=Decimal(x.get("returned", x.get("refunded", "0") if legacy else "0")),
                          returned_quantity=int(x.get("returnedQuantity", 0)))
    return tuple(line(x) for x in data)
