"""Typed, user-facing errors. Each becomes a `userErrors { field code message }` entry in the API."""
from __future__ import annotations

from enum import Enum


class ErrorCode(Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    NOT_ENROLLED = "NOT_ENROLLED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    FORBIDDEN = "FORBIDDEN"
    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    LIMIT_REACHED = "LIMIT_REACHED"
    TIER_REQUIRED = "TIER_REQUIRED"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ALREADY_CONSUMED = "ALREADY_CONSUMED"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    CAP_REACHED = "CAP_REACHED"
    COOLDOWN = "COOLDOWN"
    CONFLICT = "CONFLICT"
    ALREADY_CREDITED = "ALREADY_CREDITED"
    # VIP events: registration
    EVENT_CANCELLED = "EVENT_CANCELLED"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    NOT_OPEN_YET = "NOT_OPEN_YET"
    REGISTRATION_CLOSED = "REGISTRATION_CLOSED"
    NOT_INVITED = "NOT_INVITED"
    NO_SHOW_LIMIT = "NO_SHOW_LIMIT"
    NOT_REGISTERED = "NOT_REGISTERED"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    DUPLICATE_POST = "DUPLICATE_POST"
    NOT_DELIVERED = "NOT_DELIVERED"
    SELF_MODERATION = "SELF_MODERATION"
    INVALID_STATE = "INVALID_STATE"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    SELF_CHECK_IN = "SELF_CHECK_IN"


class UserError(Exception):
    """A problem the caller can fix; never logged as a failure, never masked."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"UserError({self.code.name}, {self.message!r}, field={self.field!r})"


class UserErrors(Exception):
    """Several input problems found at once (all fields are checked before any is reported)."""

    def __init__(self, errors: list[UserError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def collect(*checks: UserError | None) -> None:
    """Raise UserErrors with every problem found, or return when there is none."""
    found = [c for c in checks if c is not None]
    if found:
        raise UserErrors(found)
