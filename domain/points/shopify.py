"""Shopify-shaped webhook payloads read as domain values: paid and fulfilled orders, deliveries, refunds."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Mapping

from domain import bounds
from domain.errors import ErrorCode, UserError, UserErrors, collect
from domain.members import normalize_email
from domain.points.orders import (Order, OrderLine, ReturnedLine, ReturnRequest, ReturnResolution, check_external_id,
                                  parse_amount)


class Topic(Enum):
    ORDERS_PAID = "orders/paid"
    ORDERS_FULFILLED = "orders/fulfilled"
    FULFILLMENTS_CREATE = "fulfillments/create"
    FULFILLMENTS_UPDATE = "fulfillments/update"
    REFUNDS_CREATE = "refunds/create"


# Only money that was actually taken earns; refunded orders earn and their refunds reverse it,
# so the ledger shows both movements.
EARNING_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})
DELIVERED = "delivered"


@dataclass(frozen=True)
class OrderEvent:
    """An order to record, with the refunds Shopify already lists on it (applied once each, by id)."""

    order: Order
    refunds: tuple[ReturnRequest, ...] = ()
    refund_at: tuple[int, ...] = ()  # each refund's index in the payload's `refunds` (for field paths)

    def refund_field(self, i: int, field: str | None) -> str:
        """A refund's error field (`lines.0.amount`) as the payload names it
        (`refunds.2.refund_line_items.0.subtotal`)."""
        renamed = ".".join(REFUND_FIELDS.get(part, part) for part in (field or "").split(".")) if field else None
        index = self.refund_at[i] if i < len(self.refund_at) else i
        return f"refunds.{index}.{renamed}" if renamed else f"refunds.{index}"


@dataclass(frozen=True)
class Delivery:
    order_id: str
    delivered_at: datetime


@dataclass(frozen=True)
class Ignored:
    """A well-formed webhook that changes nothing in the program; answered 200 so it is not retried."""

    reason: str


Parsed = OrderEvent | Delivery | ReturnRequest | Ignored


# The order book names fields as orderRecord does; webhook senders know them by Shopify's names.
ORDER_FIELDS = {"orderId": "id", "subtotal": "subtotal_price", "total": "total_price", "lines": "line_items",
                "deliveredAt": "updated_at", "memberId": "customer.id"}
REFUND_FIELDS = {"orderId": "order_id", "returnId": "id", "lines": "refund_line_items", "lineItemId": "line_item_id",
                 "amount": "subtotal", "quantity": "quantity"}


def in_payload_terms(error: UserError | UserErrors, names: Mapping[str, str]) -> UserErrors:
    """The same errors, their fields renamed to the payload's own field names."""
    found = error.errors if isinstance(error, UserErrors) else [error]
    return UserErrors([UserError(e.code, e.message, ".".join(names.get(part, part) for part in e.field.split("."))
                                 if e.field else None) for e in found])


def topic_of(raw: str | None) -> Topic | None:
    try:
        return Topic((raw or "").strip().lower())
    except ValueError:
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_body(body: bytes) -> dict[str, Any]:
    """The raw body as a JSON object. Integers stay exact (64-bit ids), decimals stay Decimal."""
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UserError(ErrorCode.INVALID, "The body is not valid JSON.", None) from None
    if not isinstance(data, dict):
        raise UserError(ErrorCode.INVALID, "The body must be a JSON object.", None)
    return data


class _Reader:
    """Reads fields of a payload, noting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[UserError] = []

    def fail(self, code: ErrorCode, message: str, field: str) -> None:
        self.problems.append(UserError(code, message, field))

    def done(self) -> None:
        collect(*self.problems)

    @staticmethod
    def present(d: dict[str, Any], key: str) -> bool:
        return d.get(key) not in (None, "")

    def obj(self, d: dict[str, Any], key: str, field: str, *, required: bool = True) -> dict[str, Any] | None:
        value = d.get(key)
        if value is None:
            if required:
                self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return None
        if not isinstance(value, dict):
            self.fail(ErrorCode.INVALID, f"`{field}` must be an object.", field)
            return None
        return value

    def objects(self, d: dict[str, Any], key: str, field: str, *, required: bool = True) -> list[dict[str, Any]]:
        value = d.get(key)
        if value is None:
            if required:
                self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return []
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            self.fail(ErrorCode.INVALID, f"`{field}` must be a list of objects.", field)
            return []
        return value

    def text(self, d: dict[str, Any], key: str, field: str, *, required: bool = False) -> str | None:
        value = d.get(key)
        if value is None or value == "":
            if required:
                self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return None
        if not isinstance(value, str):
            self.fail(ErrorCode.INVALID, f"`{field}` must be a string.", field)
            return None
        return value.strip() or None

    def ident(self, d: dict[str, Any], key: str, field: str, *, required: bool = True) -> str | None:
        """Shopify ids are 64-bit integers; they are kept as exact strings, never floats."""
        value = d.get(key)
        if value is None or value == "":
            if required:
                self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.fail(ErrorCode.INVALID, f"`{field}` must be an integer or a string id.", field)
            return None
        text = str(value).strip()
        problem = check_external_id(text, field)
        if problem:
            self.problems.append(problem)
            return None
        return text

    def amount(self, d: dict[str, Any], key: str, field: str, *, required: bool = True) -> Decimal | None:
        value = d.get(key)
        if value is None or value == "":
            if required:
                self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return None
        # Shopify sends decimal strings, and plain JSON numbers in a few places (refund subtotals).
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            self.fail(ErrorCode.INVALID, f"`{field}` must be a decimal string such as \"12.50\".", field)
            return None
        try:
            return parse_amount(value, field)
        except UserError as e:
            self.problems.append(e)
            return None

    def count(self, d: dict[str, Any], key: str, field: str) -> int | None:
        value = d.get(key)
        if value is None:
            self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(ErrorCode.INVALID, f"`{field}` must be a whole number.", field)
            return None
        return value

    def time(self, d: dict[str, Any], key: str, field: str, *, required: bool = False) -> datetime | None:
        value = d.get(key)
        if value is None or value == "":
            if required:
                self.fail(ErrorCode.REQUIRED, f"`{field}` is required.", field)
            return None
        if not isinstance(value, str):
            self.fail(ErrorCode.INVALID, f"`{field}` must be an ISO 8601 timestamp.", field)
            return None
        checked = bounds.check_moment(value)
        if isinstance(checked, UserError):
            self.fail(checked.code, f"`{field}`: {checked.message}", field)
            return None
        return checked


def parse(topic: Topic, payload: dict[str, Any]) -> Parsed:
    """One webhook payload as what it means to the program. Raises UserErrors naming the fields."""
    if topic is Topic.ORDERS_PAID:
        return parse_order(payload, delivered=False)
    if topic is Topic.ORDERS_FULFILLED:
        return parse_order(payload, delivered=True)
    if topic in (Topic.FULFILLMENTS_CREATE, Topic.FULFILLMENTS_UPDATE):
        return parse_fulfillment(payload)
    return parse_refund(payload)


def parse_order(payload: dict[str, Any], *, delivered: bool) -> OrderEvent | Ignored:
    r = _Reader()
    status = r.text(payload, "financial_status", "financial_status", required=True)
    if status is not None and status.lower() not in EARNING_STATUSES:
        r.done()
        return Ignored(f"financial_status is {status!r}: only paid orders earn points")
    order_id = r.ident(payload, "id", "id")
    currency = r.text(payload, "currency", "currency", required=True)
    ordered_at = r.time(payload, "processed_at", "processed_at") or r.time(payload, "created_at", "created_at")
    if ordered_at is None and not r.present(payload, "processed_at") and not r.present(payload, "created_at"):
        r.fail(ErrorCode.REQUIRED, "`created_at` or `processed_at` is required.", "created_at")

    lines: list[OrderLine] = []
    for i, item in enumerate(r.objects(payload, "line_items", "line_items")):
        where = f"line_items.{i}"
        line_id = r.ident(item, "id", f"{where}.id")
        quantity = r.count(item, "quantity", f"{where}.quantity")
        price = r.amount(item, "price", f"{where}.price")
        sku = r.text(item, "sku", f"{where}.sku")
        product_id = r.ident(item, "product_id", f"{where}.product_id", required=False)
        category = r.text(item, "product_type", f"{where}.product_type")
        if line_id is not None and quantity is not None and price is not None:
            lines.append(OrderLine(id=line_id, quantity=quantity, price=price, sku=sku, product_id=product_id,
                                   category=category))

    total = r.amount(payload, "total_price", "total_price")
    subtotal = r.amount(payload, "subtotal_price", "subtotal_price", required=False)
    if subtotal is None and not r.present(payload, "subtotal_price"):
        # Older payloads: goods after discounts is the lines' gross less the order's discounts.
        discounts = r.amount(payload, "total_discounts", "total_discounts", required=False) or Decimal(0)
        subtotal = sum((line.gross for line in lines), Decimal(0)) - discounts

    customer = r.obj(payload, "customer", "customer", required=False) or {}
    customer_id = r.ident(customer, "id", "customer.id", required=False)
    email = None
    for source, key, field in ((customer, "email", "customer.email"), (payload, "email", "email"),
                               (payload, "contact_email", "contact_email")):
        email = r.text(source, key, field)
        if email:
            break

    delivered_at = None
    if delivered:
        known = [at for i, f in enumerate(r.objects(payload, "fulfillments", "fulfillments", required=False))
                 if (at := _fulfilled_at(r, f, f"fulfillments.{i}.")) is not None]
        delivered_at = max(known) if known else r.time(payload, "updated_at", "updated_at", required=True)

    refunds, refund_at = parse_refunds(r, payload, order_id)
    r.done()
    assert order_id is not None and currency is not None and ordered_at is not None and total is not None
    order = Order(id=order_id, currency=currency.upper(), ordered_at=ordered_at, lines=tuple(lines),
                  subtotal=subtotal if subtotal is not None else Decimal(0), total=total, customer_id=customer_id,
                  email=normalize_email(email) if email else None, delivered_at=delivered_at)
    return OrderEvent(order, refunds, refund_at)


def _fulfilled_at(r: _Reader, fulfillment: dict[str, Any], prefix: str) -> datetime | None:
    """When a fulfillment reached the customer: its last update once delivered, else when it shipped."""
    first, then = ("updated_at", "created_at") if fulfillment.get("shipment_status") == DELIVERED \
        else ("created_at", "updated_at")
    return r.time(fulfillment, first, prefix + first) or r.time(fulfillment, then, prefix + then)


def parse_refunds(r: _Reader, payload: dict[str, Any],
                  order_id: str | None) -> tuple[tuple[ReturnRequest, ...], tuple[int, ...]]:
    """The refunds listed on an order that return line items, and where each is in the payload."""
    refunds, at = [], []
    for i, refund in enumerate(r.objects(payload, "refunds", "refunds", required=False)):
        parsed = _refund(r, refund, order_id, f"refunds.{i}.")
        if parsed is not None and parsed.lines:
            refunds.append(parsed)
            at.append(i)
    return tuple(refunds), tuple(at)


def _refund(r: _Reader, refund: dict[str, Any], order_id: str | None, prefix: str) -> ReturnRequest | None:
    refund_id = r.ident(refund, "id", f"{prefix}id")
    lines = []
    for i, item in enumerate(r.objects(refund, "refund_line_items", f"{prefix}refund_line_items", required=False)):
        where = f"{prefix}refund_line_items.{i}"
        line_id = r.ident(item, "line_item_id", f"{where}.line_item_id")
        amount = r.amount(item, "subtotal", f"{where}.subtotal", required=False)
        # The units refunded are checked against what is left of the line (when Shopify says them).
        quantity = r.count(item, "quantity", f"{where}.quantity") if item.get("quantity") is not None else None
        if amount is None and not r.present(item, "subtotal"):
            # No refunded subtotal given: the line's unit price times the quantity refunded.
            line_item = r.obj(item, "line_item", f"{where}.line_item")
            if item.get("quantity") is None:
                r.fail(ErrorCode.REQUIRED, f"`{where}.quantity` is required.", f"{where}.quantity")
            price = r.amount(line_item, "price", f"{where}.line_item.price") if line_item is not None else None
            amount = price * quantity if price is not None and quantity is not None else None
        if line_id is not None and amount is not None:
            lines.append(ReturnedLine(line_id, amount, quantity))
    if refund_id is None or order_id is None:
        return None
    return ReturnRequest(order_id=order_id, return_id=refund_id, resolution=ReturnResolution.REFUND,
                         lines=tuple(lines))


def parse_refund(payload: dict[str, Any]) -> ReturnRequest | Ignored:
    r = _Reader()
    order_id = r.ident(payload, "order_id", "order_id")
    refund = _refund(r, payload, order_id, "")
    r.done()
    assert refund is not None
    if not refund.lines:
        return Ignored("the refund returns no line items (shipping or an amount only): no points to reverse")
    return refund


def parse_fulfillment(payload: dict[str, Any]) -> Delivery | Ignored:
    r = _Reader()
    order_id = r.ident(payload, "order_id", "order_id")
    shipment_status = r.text(payload, "shipment_status", "shipment_status")
    delivered_at = None
    if shipment_status == DELIVERED:
        delivered_at = r.time(payload, "updated_at", "updated_at") or r.time(payload, "created_at", "created_at")
        if delivered_at is None and not r.present(payload, "updated_at") and not r.present(payload, "created_at"):
            r.fail(ErrorCode.REQUIRED, "`updated_at` or `created_at` is required.", "updated_at")
    r.done()
    if shipment_status != DELIVERED:
        return Ignored(f"shipment_status is {shipment_status!r}: only a delivery moves the return window")
    assert order_id is not None and delivered_at is not None
    return Delivery(order_id, delivered_at)

