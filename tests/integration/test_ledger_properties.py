"""The books always balance: whatever mix of orders, deliveries, returns, redemptions, cancellations,
adjustments, action credits and scheduled jobs happens, and in whatever order, at whatever time.

A hypothesis state machine drives the infra use cases directly against DynamoDB Local, on a clock that
only it moves; after every step it reads the member's stored items and checks the ledger's invariants.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from domain.errors import UserError, UserErrors
from domain.members import Enrollment
from domain.points.orders import Order, OrderLine, ReturnedLine, ReturnRequest, ReturnResolution
from domain.points.program import ActionRule, EarnRate, ExpiryMode, Program
from domain.points.rewards import Reward, RewardKind
from infra import keys
from infra.items import MemberProfile, TableItem
from infra.members import Members
from infra.points.adjustments import ActionCredits, Adjustments
from infra.points.jobs import PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramCache, ProgramStore
from infra.points.rewards import RewardDesk
from tests.api.points_support import assert_books_balance
from tests.support import new_tenant

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
REVIEW = "review_written"
EXCHANGE_BONUS = 25
PROGRAM = Program(
    earn_rates=(EarnRate("USD", Decimal(1)),),
    actions=(ActionRule(REVIEW, 15),),
    return_window_days=14,
    expiry_mode=ExpiryMode.AFTER_EARNING,
    expiry_months=3,
    expiring_soon_days=20,
    exchange_bonus_points=EXCHANGE_BONUS,
)
REWARDS = (
    Reward(id="tote", name="Tote bag", kind=RewardKind.FREE_PRODUCT, points_cost=40, product_sku="TOTE"),
    Reward(id="ship", name="Free shipping", kind=RewardKind.FREE_SHIPPING, points_cost=15, stock_total=4,
           per_member_limit=3),
)
# A line is (unit price in dollars, quantity); a free line (price 0) earns nothing and is fine.
LINES = st.lists(st.tuples(st.integers(0, 120), st.integers(1, 3)), min_size=1, max_size=3)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.tenant = new_tenant()
        self.member_id = f"m-{uuid.uuid4().hex[:10]}"
        self.programs = ProgramStore(self.tenant, ProgramCache(0))
        self.orders = OrderBook(self.tenant, self.programs)
        self.rewards = RewardDesk(self.tenant, self.programs)
        self.adjustments = Adjustments(self.tenant, self.programs)
        self.credits = ActionCredits(self.tenant, self.programs, self.orders)
        self.jobs = PointsJobs(self.tenant, self.programs)
        Members(self.tenant).enroll(self.member_id, Enrollment("Aiko", f"{self.member_id}@example.com",
                                                                date(1990, 4, 1), True),
                                    self.now.isoformat(), int(self.now.timestamp()))
        self.programs.save_program(PROGRAM, "test", self.now)
        for reward in REWARDS:
            self.programs.save_reward(reward, "test", self.now)
        self.order_lines: dict[str, dict[str, Decimal]] = {}  # order id -> line id -> price x quantity
        self.return_ids: list[str] = []
        self.coupons: list[str] = []
        self.references = 0

    # -- helpers ---------------------------------------------------------------------------------------
    def pk(self) -> str:
        return keys.member_pk(self.tenant, self.member_id)

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every stored item a use case of this member may touch: their partition and the program's."""
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for pk in (self.pk(), keys.program_pk(self.tenant)):
            for item in TableItem.query(pk, consistent_read=True):
                items[(item.PK, item.SK)] = item.serialize()
        return items

    def attempt(self, use_case: Any, *args: Any, **kw: Any) -> Any:
        """Run a use case; a domain refusal is fine, but must leave every item as it was."""
        before = self.snapshot()
        try:
            return use_case(*args, **kw)
        except (UserError, UserErrors):
            assert self.snapshot() == before, f"{use_case.__name__} refused but wrote something"
            return None

    def pick(self, data: st.DataObject, values: list[str], label: str) -> str:
        return data.draw(st.sampled_from(values), label=label)

    # -- the clock ---------------------------------------------------------------------------------------
    @rule(hours=st.integers(1, 45 * 24))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    # -- orders ------------------------------------------------------------------------------------------
    @rule(lines=LINES, discount=st.integers(0, 30), delivered=st.booleans())
    def order_paid(self, lines: list[tuple[int, int]], discount: int, delivered: bool) -> None:
        order_id = f"o-{len(self.order_lines) + 1}"
        gross = sum(price * qty for price, qty in lines)
        subtotal = max(Decimal(gross - discount), Decimal(0))
        order = Order(id=order_id, currency="USD", ordered_at=self.now,
                      lines=tuple(OrderLine(id=str(i + 1), quantity=qty, price=Decimal(price), sku=f"SKU{i}")
                                  for i, (price, qty) in enumerate(lines)),
                      subtotal=subtotal, total=subtotal + 5, member_id=self.member_id,
                      delivered_at=self.now if delivered else None)
        if self.attempt(self.orders.record, order, self.now) is not None:
            self.order_lines[order_id] = {line.id: line.gross for line in order.lines}

    @precondition(lambda self: self.order_lines)
    @rule(data=st.data())
    def order_delivered(self, data: st.DataObject) -> None:
        self.attempt(self.orders.deliver, self.pick(data, list(self.order_lines), "order"), self.now)

    @precondition(lambda self: self.order_lines)
    @rule(data=st.data(), percent=st.integers(0, 120), repeat=st.booleans())
    def order_refunded(self, data: st.DataObject, percent: int, repeat: bool) -> None:
        """Part of a line, all of it, or (a confused order system) more than was paid for it."""
        order_id = self.pick(data, list(self.order_lines), "order")
        line_id = self.pick(data, list(self.order_lines[order_id]), "line")
        amount = (self.order_lines[order_id][line_id] * percent / 100).quantize(Decimal("0.01"))
        # Now and then the order system sends a refund it sent before: it must count once.
        return_id = self.pick(data, self.return_ids, "old return") if repeat and self.return_ids \
            else f"ret-{len(self.return_ids) + 1}"
        self.return_ids.append(return_id)
        self.attempt(self.orders.process_return, ReturnRequest(
            order_id, return_id, ReturnResolution.REFUND, (ReturnedLine(line_id, amount),)), self.now)

    @precondition(lambda self: self.order_lines)
    @rule(data=st.data())
    def order_exchanged(self, data: st.DataObject) -> None:
        order_id = self.pick(data, list(self.order_lines), "order")
        return_id = f"ret-{len(self.return_ids) + 1}"
        self.return_ids.append(return_id)
        result = self.attempt(self.orders.process_return,
                              ReturnRequest(order_id, return_id, ReturnResolution.EXCHANGE), self.now)
        if result is not None:
            assert (result.points_reversed, result.bonus_points) == (0, EXCHANGE_BONUS)

    # -- rewards -----------------------------------------------------------------------------------------
    @rule(reward=st.sampled_from([r.id for r in REWARDS]), keyed=st.booleans())
    def reward_redeemed(self, reward: str, keyed: bool) -> None:
        key = f"key-{len(self.coupons)}-{reward}" if keyed else None
        redemption = self.attempt(self.rewards.redeem, self.member_id, reward, self.now, key)
        if redemption is not None:
            self.coupons.append(redemption.code)

    @precondition(lambda self: self.coupons)
    @rule(data=st.data())
    def redemption_cancelled(self, data: st.DataObject) -> None:
        # Cancelling a coupon twice is refused (ALREADY_CANCELLED) and must change nothing.
        self.attempt(self.rewards.cancel, self.pick(data, self.coupons, "coupon"), self.now)

    # -- staff and actions --------------------------------------------------------------------------------
    @rule(points=st.integers(-150, 150).filter(bool))
    def points_adjusted(self, points: int) -> None:
        self.attempt(self.adjustments.adjust, self.member_id, points, "property test", "staff:test", self.now)

    @rule(again=st.booleans())
    def review_written(self, again: bool) -> None:
        # Now and then the same review is reported again: it must be credited once.
        if not again or not self.references:
            self.references += 1
        self.attempt(self.credits.record, self.member_id, REVIEW, f"review-{self.references}", self.now)

    # -- scheduled jobs -----------------------------------------------------------------------------------
    @rule()
    def nightly_jobs(self) -> None:
        """What the scheduler runs: release closed return windows, expire lots, remind before expiry."""
        for job in (self.jobs.release_due, self.jobs.expire_due, self.jobs.remind_expiring):
            report = job(self.now)
            assert report.errors == [], report

    # -- what must always hold ------------------------------------------------------------------------------
    @invariant()
    def books_balance(self) -> None:
        assert_books_balance(self.tenant, self.member_id)


@pytest.mark.slow  # still part of the default run: nothing deselects `slow`
def test_the_books_balance_after_every_step(services) -> None:
    # `services` binds the models to the session's table on DynamoDB Local.
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=40, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]))


def test_refunding_a_released_order_leaves_another_orders_pending_points_alone(services) -> None:
    """Found by the machine: a released order kept its old `pendingPoints`, so refunding it took the
    points from another order still in its return window, and that order could never be released."""
    books = LedgerMachine()
    books.order_paid([(100, 1)], 0, False)
    books.time_passes(15 * 24)
    books.nightly_jobs()  # order 1 released: 100 available
    books.order_paid([(50, 1)], 0, False)  # order 2: 50 pending
    refund = ReturnRequest("o-1", "ret-1", ReturnResolution.REFUND, (ReturnedLine("1", Decimal(100)),))

    assert books.orders.process_return(refund, books.now).points_reversed == 100

    books.books_balance()
    profile = MemberProfile.get(books.pk(), keys.PROFILE, consistent_read=True)
    assert (int(profile.available), int(profile.pending), int(profile.debt)) == (0, 50, 0)
    books.time_passes(15 * 24)
    books.nightly_jobs()
    books.books_balance()
    profile = MemberProfile.get(books.pk(), keys.PROFILE, consistent_read=True)
    assert (int(profile.available), int(profile.pending)) == (50, 0)
