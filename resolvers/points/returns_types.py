"""GraphQL shapes of returns: the return as the order system sends it, and what is left of each line."""
from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.points import orders as order_rules
from resolvers.points.types import ReturnResolution


def _plain(value: Decimal) -> Decimal:
    """A money value without the stored scale's trailing zeros ("1200", "34.2"), never in exponent form."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


@strawberry.input(description="One line of the order, returned: the money refunded for it and, when known, its units.")
class ReturnedLineInput:
    line_item_id: strawberry.ID
    amount: Decimal = strawberry.field(
        description="Money refunded for this line (goods, before tax). With the line's earlier refunds it adds "
                    "up to at most the line's `amount` (its price times its quantity): see `remaining.amountLeft`.")
    quantity: int | None = strawberry.field(
        default=None, description="Units of the line returned, 0 to 10,000 (0: money only, e.g. a price adjustment). "
                                  "With the line's earlier returns, at most its quantity: see "
                                  "`remaining.quantityLeft`. Absent: only the amount is checked.")


@strawberry.input(description="A return or refund of some of an order's lines, and how it was resolved. Checked "
                              "against what is left of each line: refunds and store credit use it up, exchanges "
                              "and warranty exchanges only have to fit in it.")
class OrderReturnInput:
    order_id: strawberry.ID
    return_id: strawberry.ID
    resolution: ReturnResolution
    lines: list[ReturnedLineInput] = strawberry.field(default_factory=list)

    def to_domain(self) -> order_rules.ReturnRequest:
        return order_rules.ReturnRequest(
            order_id=self.order_id, return_id=self.return_id, resolution=self.resolution,
            lines=tuple(order_rules.ReturnedLine(x.line_item_id, x.amount, x.quantity) for x in self.lines))


@strawberry.type(description="What is left of one order line after its returns. An embedded value of its parent: "
                             "it has no id and is always answered whole with the parent.")
class OrderLineRemaining:
    line_item_id: strawberry.ID
    quantity: int | None = strawberry.field(
        description="Units ordered; null for an order recorded before quantities were kept (then only amounts "
                    "are checked).")
    quantity_left: int | None = strawberry.field(
        description="Units not yet refunded or returned for store credit; null when the quantity is not known.")
    amount: Decimal = strawberry.field(
        description="The most the line's refunds may add up to: its price times its quantity (or its share of "
                    "what was paid, if that is more).")
    amount_left: Decimal = strawberry.field(description="What further refunds of the line may still add up to.")
    points: int = strawberry.field(description="Points the line earned (0 while the order waits for its customer "
                                               "to enroll).")
    points_left: int = strawberry.field(description="Of the line's points, those not taken back by refunds.")

    @classmethod
    def of(cls, line: order_rules.LinePoints) -> "OrderLineRemaining":
        return cls(line_item_id=strawberry.ID(line.line_id), quantity=line.quantity, quantity_left=line.quantity_left,
                   amount=_plain(line.refundable), amount_left=_plain(line.amount_left), points=line.points,
                   points_left=line.points_left)

    @classmethod
    def of_lines(cls, lines: tuple[order_rules.LinePoints, ...]) -> list["OrderLineRemaining"]:
        return [cls.of(x) for x in lines]
