"""How each kind of ledger entry moves a member's points between available, pending and debt.

The books balance by construction: every entry's `points` is its `net` movement, so the sum of a
member's entries always equals available + pending - debt. Available points live in lots; spending,
expiry and reversals consume lots oldest-expiring first.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.errors import ErrorCode, UserError

MAX_ADJUSTMENT = 10_000_000


class EntryType(Enum):
    EARN = "EARN"  # an order
    ACTION = "ACTION"  # an action rule: review, birthday, referral, custom activity
    BONUS = "BONUS"  # e.g. choosing an exchange over a refund
    REDEEM = "REDEEM"
    REDEMPTION_CANCELLED = "REDEMPTION_CANCELLED"  # points of an unused coupon come back
    REVERSAL = "REVERSAL"  # refund or return
    EXPIRY = "EXPIRY"
    ADJUSTMENT = "ADJUSTMENT"  # staff, with a reason


class EntryStatus(Enum):
    PENDING = "PENDING"  # held until the order's return window closes
    POSTED = "POSTED"


@dataclass(frozen=True)
class Balance:
    available: int = 0
    pending: int = 0
    lifetime: int = 0
    debt: int = 0


@dataclass(frozen=True)
class Movement:
    """Deltas to the balance buckets, plus what happens to lots."""

    available: int = 0
    pending: int = 0
    debt: int = 0
    lifetime: int = 0
    new_lot: int = 0  # points that start a new lot
    consumed: int = 0  # points taken from existing lots, oldest-expiring first

    @property
    def net(self) -> int:
        return self.available + self.pending - self.debt

    def applied_to(self, b: Balance) -> Balance:
        return Balance(b.available + self.available, b.pending + self.pending, b.lifetime + self.lifetime,
                       b.debt + self.debt)


def hold(points: int) -> Movement:
    """Order points wait as pending until the return window closes."""
    return Movement(pending=points, lifetime=points)


def credit(balance: Balance, points: int, *, counts_toward_lifetime: bool = True) -> Movement:
    """Points become available; any debt from reversed, already-spent points is repaid first."""
    repaid = min(balance.debt, points)
    return Movement(available=points - repaid, debt=-repaid, new_lot=points - repaid,
                    lifetime=points if counts_toward_lifetime else 0)


def release(balance: Balance, points: int) -> Movement:
    """The return window closed: pending points become available (repaying debt first)."""
    repaid = min(balance.debt, points)
    return Movement(pending=-points, available=points - repaid, debt=-repaid, new_lot=points - repaid)


def spend(balance: Balance, points: int) -> Movement:
    if points <= 0:
        raise UserError(ErrorCode.OUT_OF_RANGE, "Points to spend must be positive.", "points")
    if balance.available < points:
        raise UserError(ErrorCode.INSUFFICIENT_POINTS,
                        f"Needs {points} points; {balance.available} are available.", "points")
    return Movement(available=-points, consumed=points)


def reverse(balance: Balance, points: int, pending_of_order: int) -> Movement:
    """Take points back: from the order's pending points first, then available; what was already
    spent becomes debt, so a balance never goes below zero."""
    from_pending = min(points, pending_of_order, balance.pending)
    rest = points - from_pending
    from_available = min(rest, balance.available)
    to_debt = rest - from_available
    return Movement(pending=-from_pending, available=-from_available, debt=to_debt, consumed=from_available)


def expire(points: int) -> Movement:
    return Movement(available=-points, consumed=points)


def check_adjustment(points: int, reason: str) -> None:
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise UserError(ErrorCode.OUT_OF_RANGE, f"Adjust by 1 to {MAX_ADJUSTMENT:,} points, up or down.", "points")
    if not reason or not reason.strip():
        raise UserError(ErrorCode.REQUIRED, "Every adjustment needs a reason.", "reason")
    if len(reason) > 500:
        raise UserError(ErrorCode.TOO_LONG, "The reason is at most 500 characters.", "reason")


def adjust(balance: Balance, points: int) -> Movement:
    """Staff adjustments: up repays debt first like any credit; down never goes below zero."""
    if points > 0:
        return credit(balance, points)
    return spend(balance, -points)
