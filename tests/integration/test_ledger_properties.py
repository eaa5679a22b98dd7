"""Every step does what the rules say, and the books always balance: whatever mix of orders, replays,
deliveries, refunds, exchanges, redemptions, cancellations, adjustments, reviews and scheduled jobs
happens, in whatever order, at whatever time.

A hypothesis state machine drives the infra use cases directly against DynamoDB Local, on a clock that
only it moves. Beside it runs a plain-Python model of the program's rules (`ledger_model.Books`): each
step's answer (points earned or reversed, outcome, refusal code) must be the model's, a refusal or a
replay must write nothing, and after every step the stored state must match the model (available,
pending, lifetime, debt, expiring soon, each order's held points and window, stock left, per-member
redemption counts, every coupon's status, every lot's bucket and what it has left) on top of the books
check (`assert_books_balance`).

Expiry: "N months after earning" (one bucket per expiry month, spent points folded away when the expire
job removes a bucket) until, now and then, staff switch the program to "after N months of inactivity":
members then hold the dated buckets from before plus the undated one, and the nightly jobs also expire
inactive members, here a few lots per transaction (INACTIVITY_CHUNK is made small), the books checked
after every transaction a job commits.

Size: KIZUNA_PROPERTY_EXAMPLES (default 30) examples of KIZUNA_PROPERTY_STEPS (default 30) steps.
"""
from __future__ import annotations

import contextlib
import math
import os
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
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
from infra.points.history import points_view
from infra.points import jobs as points_jobs
from infra.points.items import Coupon, OrderRecord, PointLot, RewardItem
from infra.points.jobs import JobReport, PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramCache, ProgramStore
from infra.points.rewards import RewardDesk
from tests.api.points_support import assert_books_balance
from tests.integration.ledger_model import Books, Issue, Refused, Replay
from tests.support import new_tenant

EXAMPLES = int(os.environ.get("KIZUNA_PROPERTY_EXAMPLES", "30"))
STEPS = int(os.environ.get("KIZUNA_PROPERTY_STEPS", "30"))
SHRINK = os.environ.get("KIZUNA_PROPERTY_SHRINK", "1") != "0"  # 0: report the first failure as found

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
REVIEW = "review_written"
EXCHANGE_BONUS = 25
WELCOME_POINTS = (100, 200)  # the member's and the friend's, from staff, so rewards are within reach early
KEY_TTL = timedelta(hours=24)  # an idempotency key is a promise for a day
PROGRAM = Program(
    earn_rates=(EarnRate("USD", Decimal(1)),),
    actions=(ActionRule(REVIEW, 15),),
    return_window_days=14,
    expiry_mode=ExpiryMode.AFTER_EARNING,
    expiry_months=3,
    expiring_soon_days=20,
    exchange_bonus_points=EXCHANGE_BONUS,
)
# Stock and limits small enough to run out within a few steps: the sticker's stock on the second
# redemption, the shipping limit on a member's second; its stock when both members hold one.
REWARDS = (
    Reward(id="tote", name="Tote bag", kind=RewardKind.FREE_PRODUCT, points_cost=40, product_sku="TOTE"),
    Reward(id="ship", name="Free shipping", kind=RewardKind.FREE_SHIPPING, points_cost=15, stock_total=2,
           per_member_limit=1),
    Reward(id="sticker", name="Sticker", kind=RewardKind.FREE_PRODUCT, points_cost=5, product_sku="STICKER",
           stock_total=1),
)
REWARD_IDS = [r.id for r in REWARDS]
# A line is (unit price in dollars, quantity); a free line (price 0) earns nothing and is fine.
LINES = st.lists(st.tuples(st.integers(0, 60), st.integers(1, 3)), min_size=1, max_size=3)
EVERYTHING = 0  # as an adjustment: take every available point
# Every step starts with a wait: none, hours, days or months (so return windows close and lots expire
# within a run's few steps), after which the jobs run, or now and then do not.
LATER = st.one_of(st.just(0), st.just(0), st.integers(1, 47), st.integers(2, 30).map(lambda days: days * 24),
                  st.integers(31, 130).map(lambda days: days * 24))
JOBS = st.sampled_from((True, True, True, False))
WHO = st.sampled_from((0, 1))  # the member, or a friend who has no orders (and shares the rewards' stock)
# Staff may switch the program to expiry after inactivity in its first months, while the members still
# hold the buckets dated before (in the other runs it stays "after earning" all along); the inactivity job
# then removes lots this many at a time (in production 25), so a member holding a dated bucket and the
# undated one goes in chunks.
SWITCH_BEFORE = START + timedelta(days=90)
INACTIVITY_CHUNK = 1


def make_order(order_id: str, member_id: str, lines: list[tuple[int, int]], discount: int, at: datetime,
               delivered_at: datetime | None) -> Order:
    gross = sum(price * qty for price, qty in lines)
    subtotal = max(Decimal(gross - discount), Decimal(0))
    return Order(id=order_id, currency="USD", ordered_at=at,
                 lines=tuple(OrderLine(id=str(i + 1), quantity=qty, price=Decimal(price), sku=f"SKU{i}")
                             for i, (price, qty) in enumerate(lines)),
                 subtotal=subtotal, total=subtotal + 5, member_id=member_id,
                 delivered_at=delivered_at)


KINDS = TableItem._get_discriminator_attribute()._discriminator_map


def tally(outcome: str) -> None:
    """Count an outcome for hypothesis's statistics (only inside the machine's run)."""
    with contextlib.suppress(InvalidArgument):
        event(outcome)


def raw_partition(pk: str) -> list[dict[str, Any]]:
    """Every item of a partition as stored, kind or not (counters created by an update carry none)."""
    connection, items, start = TableItem._get_connection(), [], None
    while True:
        data = connection.query(pk, consistent_read=True, exclusive_start_key=start)
        items += data.get("Items", [])
        start = data.get("LastEvaluatedKey")
        if not start:
            return items


def job_went_well(report: Any) -> bool:
    """No member failed and the run finished (the report's shape is the job runner's to change)."""
    if hasattr(report, "ok"):
        return bool(report.ok) and getattr(report, "complete", True)
    return not report.errors


class WatchedJobs(PointsJobs):
    """The points jobs as they are, watched: after every expiry transaction one commits (each chunk of an
    inactivity expiry, each lot the expire job removes) the member's books must balance, and the lots
    it removed are noted."""

    def __init__(self, tenant: str, programs: ProgramStore) -> None:
        super().__init__(tenant, programs)
        self.committed: list[tuple[str, int]] = []  # (member, lots removed) per expiry transaction
        self.folded = 0  # expiry transactions that took spent points out of `lotsConsumed`, the rest left

    def _expiry(self, member_id: str, profile: MemberProfile, lots: list[PointLot], gone: list[PointLot],
                *args: Any, **kw: Any) -> Any:
        tx, points = super()._expiry(member_id, profile, lots, gone, *args, **kw)
        commit = tx.commit

        def commit_and_check(**options: Any) -> None:
            commit(**options)
            self.committed.append((member_id, len(gone)))
            after = assert_books_balance(self.tenant, member_id)
            if after["consumed"] < int(profile.lots_consumed) and after["available"]:
                self.folded += 1

        tx.commit = commit_and_check  # type: ignore[method-assign]
        return tx, points


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.tenant = new_tenant()
        self.member_id = f"m-{uuid.uuid4().hex[:10]}"
        self.friend_id = f"f-{uuid.uuid4().hex[:10]}"
        self.member_ids = (self.member_id, self.friend_id)
        self.programs = ProgramStore(self.tenant, ProgramCache(3600))  # saves invalidate it
        self.orders = OrderBook(self.tenant, self.programs)
        self.rewards = RewardDesk(self.tenant, self.programs)
        self.adjustments = Adjustments(self.tenant, self.programs)
        self.credits = ActionCredits(self.tenant, self.programs, self.orders)
        self.jobs = WatchedJobs(self.tenant, self.programs)
        self.model = Books.of(PROGRAM, REWARDS, REVIEW)
        for member_id, name in ((self.member_id, "Aiko"), (self.friend_id, "Ren")):
            Members(self.tenant).enroll(member_id, Enrollment(name, f"{member_id}@example.com", date(1990, 4, 1),
                                                              True), self.now.isoformat(), int(self.now.timestamp()))
            self.model.enroll(member_id, self.now)
        self.programs.save_program(PROGRAM, "test", self.now)
        for reward in REWARDS:
            self.programs.save_reward(reward, "test", self.now)
        for member_id, points in zip(self.member_ids, WELCOME_POINTS):
            self.adjustments.adjust(member_id, points, "welcome", "staff:test", self.now)
            self.model.adjust(member_id, points, self.now)
        self.sent_orders: dict[str, tuple[list[tuple[int, int]], int, datetime]] = {}  # lines, discount, time
        self.sent_returns: list[ReturnRequest] = []
        self.sent_keys: list[tuple[str, str, str, datetime]] = []  # member, key, reward, first sent
        self.references: list[str] = []
        self.counter = 0
        self.returns_seen = 0  # returns sent, as the last check saw them

    # -- helpers ---------------------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every stored item a use case here may touch: the members' partitions and the program's."""
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for pk in (*(keys.member_pk(self.tenant, m) for m in self.member_ids), keys.program_pk(self.tenant)):
            for raw in raw_partition(pk):  # raw: counters written by updates carry no item kind
                items[(raw["PK"]["S"], raw["SK"]["S"])] = raw
        return items

    def call(self, use_case: Any, *args: Any, unchanged: bool = False, **kw: Any) -> tuple[Any, str | None]:
        """Run a use case: (result, None), or (None, error code) for a domain refusal; for several
        problems at once, their codes joined by "+", and the (field, code) pairs in `self.problems`.
        When the model says the step is refused or a replay (`unchanged`), every item must stay as it was."""
        before = self.snapshot() if unchanged else None
        self.problems: frozenset[tuple[str, str]] = frozenset()
        try:
            result, code = use_case(*args, **kw), None
        except UserError as e:
            result, code = None, e.code.value
        except UserErrors as e:
            self.problems = frozenset((x.field or "", x.code.value) for x in e.errors)
            result, code = None, "+".join(sorted({x.code.value for x in e.errors}))
        tally(f"{use_case.__name__}: " + (f"refused {code}" if code else "replayed" if unchanged else "applied"))
        if before is not None:
            assert self.snapshot() == before, f"{use_case.__name__} ({code or result}) should change nothing"
        return result, code

    @staticmethod
    def answered(expected: Any, result: Any, code: str | None, what: str) -> bool:
        """The system refused exactly when the model says so, for one of the model's reasons."""
        if isinstance(expected, Refused):
            assert code in expected.codes, f"{what}: the model refuses ({sorted(expected.codes)}), got {code or result}"
            return False
        assert code is None, f"{what}: refused with {code}, the model expects {expected}"
        return True

    def pick(self, data: st.DataObject, values: list[str], label: str) -> str:
        return data.draw(st.sampled_from(values), label=label)

    # -- the clock ---------------------------------------------------------------------------------------
    def time_passes(self, hours: int, jobs: bool = True) -> None:
        """The clock moves on, and (mostly) the scheduled jobs run: in production nightly; here after
        any wait, so also twice a night, or now and then not for weeks."""
        if hours:
            self.now += timedelta(hours=hours)
            if jobs:
                self.nightly_jobs()

    # -- orders ------------------------------------------------------------------------------------------
    def record_order(self, order_id: str, lines: list[tuple[int, int]], discount: int, at: datetime,
                     delivered: bool) -> None:
        """Send an order placed at `at`; `delivered`: the order system says it was delivered now."""
        delivered_at = self.now if delivered else None
        order = make_order(order_id, self.member_id, lines, discount, at, delivered_at)
        plan = self.model.order_paid(self.member_id, order_id, lines, order.subtotal, order.total, "USD",
                                     at, delivered_at)
        result, code = self.call(self.orders.record, order, self.now, unchanged=plan.outcome == "DUPLICATE")
        assert code is None and result.outcome.value == plan.outcome, (order_id, code, result, plan.outcome)
        if plan.outcome == "CREDITED":
            assert plan.order is not None
            stored = self.orders.record_of(self.member_id, order_id).lines
            assert {x["id"]: Decimal(x["paid"]) for x in stored} == {i: x.paid for i, x in plan.order.lines.items()}
            if result.points < max(plan.points):
                tally("order: credited a point short (the known rounding fault)")
            self.model.order_credited(self.member_id, plan, result.points, {x["id"]: int(x["points"]) for x in stored},
                                      self.now)
            self.sent_orders[order_id] = (lines, discount, at)

    @rule(later=LATER, jobs=JOBS, data=st.data(), kind=st.sampled_from(("new", "new", "again", "changed", "delivered")),
          lines=LINES, discount=st.integers(0, 30), delivered=st.booleans())
    def order_sent(self, later: int, jobs: bool, data: st.DataObject, kind: str, lines: list[tuple[int, int]],
                   discount: int, delivered: bool) -> None:
        """What the order system sends: a paid order (delivered already, or not); an order id sent
        before, as it was (a webhook retry) or changed, which never credits twice but with a delivery
        date starts a held order's return window there; or a delivery."""
        self.time_passes(later, jobs)
        if kind == "new" or not self.sent_orders:
            self.record_order(self.next_id("o"), lines, discount, self.now, delivered)
            return
        order_id = self.pick(data, list(self.sent_orders), "order sent before")
        if kind == "again":
            first_lines, first_discount, at = self.sent_orders[order_id]
            self.record_order(order_id, first_lines, first_discount, at, delivered)
        elif kind == "changed":
            self.record_order(order_id, lines, discount, self.now, delivered)
        else:
            outcome = self.model.deliver(self.member_id, order_id, self.now)
            result, code = self.call(self.orders.deliver, order_id, self.now, unchanged=outcome == "DUPLICATE")
            assert code is None and result.outcome.value == outcome, (order_id, code, result, outcome)

    def send_return(self, req: ReturnRequest) -> None:
        debt = self.model.members[self.member_id].debt
        asked = [(x.line_id, x.amount, x.quantity) for x in req.lines]
        if req.resolution is ReturnResolution.REFUND:
            expected = self.model.refund(self.member_id, req.order_id, req.return_id, asked)
        else:
            expected = self.model.exchange(self.member_id, req.order_id, req.return_id, self.now, asked)
        self.sent_returns.append(req)
        result, code = self.call(self.orders.process_return, req, self.now,
                                 unchanged=isinstance(expected, Refused) or expected[2])
        if isinstance(expected, Refused):
            # Refused with every problem at once, each on its field, and nothing written (checked by `call`).
            assert code is not None and set(code.split("+")) == expected.codes, (req, code, expected)
            assert self.problems == expected.problems, (req, sorted(self.problems), sorted(expected.problems or ()))
            return
        into_debt = self.model.members[self.member_id].debt > debt
        tally("return: " + ("duplicate" if expected[2] else "into debt" if into_debt else "reversed" if expected[0]
                            else "bonus" if expected[1] else "nothing to reverse"))
        assert code is None, (req, code, sorted(self.problems))
        assert (result.points_reversed, result.bonus_points, result.duplicate) == expected, (req, result, expected)

    def refund(self, order_id: str, return_id: str, line_id: str, amount: Decimal, quantity: int | None = None) -> None:
        self.send_return(ReturnRequest(order_id, return_id, ReturnResolution.REFUND,
                                       (ReturnedLine(line_id, amount, quantity),)))

    def returned_lines(self, data: st.DataObject, order_id: str) -> tuple[ReturnedLine, ...]:
        """One or two lines of a return, drawn against what the model says is left of each: part of
        it, exactly all of it, a percentage of the line (up to 120%: a confused order system), or a
        little more than is left; the units not said, or some, all or one more than are left; now and
        then a line the order does not have, or the same line twice."""
        order = self.model.members[self.member_id].orders[order_id]
        picked = []
        for _ in range(data.draw(st.sampled_from((1, 1, 1, 2)), label="lines returned")):
            line_id = data.draw(st.sampled_from([*order.lines] * 4 + ["9"]), label="line")
            line = order.lines.get(line_id)
            if line is None:
                picked.append(ReturnedLine(line_id, Decimal("1.00")))
                continue
            left = line.money_left
            how = data.draw(st.sampled_from(("part", "part", "all", "percent", "percent", "over")), label="amount")
            if how == "part":
                amount = (left * data.draw(st.integers(0, 100), label="percent left") / 100).quantize(
                    Decimal("0.01"), rounding=ROUND_DOWN)
            elif how == "all":
                amount = left
            elif how == "percent":
                amount = (line.gross * data.draw(st.integers(0, 120), label="percent") / 100).quantize(Decimal("0.01"))
            else:
                amount = left + data.draw(st.sampled_from((Decimal("0.01"), Decimal(1), Decimal(25))), label="over by")
            units = data.draw(st.sampled_from((None, None, None, "one", "all", "over")), label="units")
            quantity = {None: None, "one": min(1, line.units_left), "all": line.units_left,
                        "over": line.units_left + 1}[units]
            picked.append(ReturnedLine(line_id, amount, quantity))
        return tuple(picked)

    @precondition(lambda self: self.sent_orders)
    @rule(later=LATER, jobs=JOBS, data=st.data(),
          kind=st.sampled_from(("refund", "refund", "refund", "exchange", "again", "changed")))
    def order_returned(self, later: int, jobs: bool, data: st.DataObject, kind: str) -> None:
        """A refund of one or two lines that fits what is left of them, or (a confused order system)
        does not: more money or units than are left, a line the order lacks; an exchange, with or
        without lines (which must fit too); or a return sent before: exactly as it was (a retry), or
        its id with other lines and amounts. A return is applied once, and never again; a refused one
        changes nothing, and partial refunds add up until a line is used up."""
        self.time_passes(later, jobs)
        if kind == "again" and self.sent_returns:
            self.send_return(data.draw(st.sampled_from(self.sent_returns), label="return sent before"))
            return
        order_id = self.pick(data, list(self.sent_orders), "order")
        if kind == "exchange":
            lines = self.returned_lines(data, order_id) if data.draw(st.booleans(), label="with lines") else ()
            self.send_return(ReturnRequest(order_id, self.next_id("ret"), ReturnResolution.EXCHANGE, lines))
            return
        old_ids = [r.return_id for r in self.sent_returns]
        return_id = self.pick(data, old_ids, "return id sent before") if kind == "changed" and old_ids \
            else self.next_id("ret")
        self.send_return(ReturnRequest(order_id, return_id, ReturnResolution.REFUND,
                                       self.returned_lines(data, order_id)))

    # -- rewards -----------------------------------------------------------------------------------------
    def redeem(self, member_id: str, reward_id: str, key: str | None) -> None:
        expected = self.model.redeem(member_id, reward_id, key)
        result, code = self.call(self.rewards.redeem, member_id, reward_id, self.now, key,
                                 unchanged=isinstance(expected, (Replay, Refused)))
        if not self.answered(expected, result, code, f"redeem {reward_id} for {member_id} (key {key})"):
            return
        if isinstance(expected, Replay):
            assert result.code == expected.code, (key, result.code, expected.code)
            return
        assert isinstance(expected, Issue)
        assert (result.member_id, result.reward.id, result.points, result.status.value) == (
            member_id, reward_id, self.model.rewards[reward_id].points_cost, "ISSUED"), result
        self.model.issued(expected, result.code, self.now)

    def recent_keys(self) -> list[tuple[str, str, str, datetime]]:
        return [k for k in self.sent_keys if self.now - k[3] < KEY_TTL]

    @rule(later=LATER, jobs=JOBS, data=st.data(), who=WHO, reward=st.sampled_from(REWARD_IDS),
          key=st.sampled_from(("none", "new", "same", "changed")))
    def reward_redeemed(self, later: int, jobs: bool, data: st.DataObject, who: int, reward: str, key: str) -> None:
        """Without an idempotency key or with a new one; now and then with a key sent in the last day:
        for the same reward it is the first answer again, for another it is refused."""
        self.time_passes(later, jobs)
        recent = self.recent_keys()
        if key in ("same", "changed") and recent:
            member_id, idem, first, _at = data.draw(st.sampled_from(recent), label="key sent before")
            if key == "changed":
                first = self.pick(data, [r for r in REWARD_IDS if r != first], "other reward")
            self.redeem(member_id, first, idem)
            return
        member_id = self.member_ids[who]
        idem = None
        if key != "none":
            idem = self.next_id("idem-key")
            self.sent_keys.append((member_id, idem, reward, self.now))
        self.redeem(member_id, reward, idem)

    @precondition(lambda self: self.model.coupons)
    @rule(later=LATER, jobs=JOBS, data=st.data(), use=st.booleans())
    def coupon_used_or_cancelled(self, later: int, jobs: bool, data: st.DataObject, use: bool) -> None:
        """The storefront uses a coupon, or the member cancels it. Either again, or one after the
        other, is refused and changes nothing."""
        self.time_passes(later, jobs)
        code = self.pick(data, list(self.model.coupons), "coupon")
        if use:
            expected = self.model.consume(code)
            result, error = self.call(self.rewards.consume, code, "shop-order-1", self.now,
                                      unchanged=expected is not None)
        else:
            expected = self.model.cancel(code, self.now)
            result, error = self.call(self.rewards.cancel, code, self.now, unchanged=expected is not None)
        if self.answered(expected, result, error, f"{'consume' if use else 'cancel'} {code}"):
            assert result.status.value == ("CONSUMED" if use else "CANCELLED"), result

    # -- staff and actions --------------------------------------------------------------------------------
    @rule(later=LATER, jobs=JOBS, who=WHO, points=st.one_of(st.integers(-150, 150).filter(bool), st.just(EVERYTHING)))
    def points_adjusted(self, later: int, jobs: bool, who: int, points: int) -> None:
        """Staff add or take points; now and then take all that is available (so that a refund later
        runs into debt)."""
        self.time_passes(later, jobs)
        member_id = self.member_ids[who]
        if points == EVERYTHING:
            points = -max(self.model.members[member_id].available, 1)
        expected = self.model.adjust(member_id, points, self.now)
        result, code = self.call(self.adjustments.adjust, member_id, points, "property test", "staff:test", self.now,
                                 unchanged=isinstance(expected, Refused))
        if self.answered(expected, result, code, f"adjust {member_id} by {points}"):
            assert result == points

    @rule(later=LATER, jobs=JOBS, data=st.data(), again=st.booleans())
    def review_written(self, later: int, jobs: bool, data: st.DataObject, again: bool) -> None:
        self.time_passes(later, jobs)
        # Now and then a review is reported again: it was credited once, and is not again.
        if again and self.references:
            reference = self.pick(data, self.references, "old review")
        else:
            reference = self.next_id("review")
            self.references.append(reference)
        expected = self.model.review(self.member_id, reference, self.now)
        result, code = self.call(self.credits.record, self.member_id, REVIEW, reference, self.now,
                                 unchanged=isinstance(expected, Refused))
        if self.answered(expected, result, code, f"review {reference}"):
            assert result == expected

    # -- the program -------------------------------------------------------------------------------------
    @precondition(lambda self: self.now < SWITCH_BEFORE and self.model.program.expiry_mode is ExpiryMode.AFTER_EARNING)
    @rule(later=LATER, jobs=JOBS, months=st.integers(1, 2))
    def program_switched_to_inactivity(self, later: int, jobs: bool, months: int) -> None:
        """Staff switch expiry to "after N months of inactivity": the buckets dated so far keep their
        dates, new points share the undated bucket, and a member inactive for N months loses everything."""
        self.time_passes(later, jobs)
        program = replace(PROGRAM, expiry_mode=ExpiryMode.AFTER_INACTIVITY, expiry_months=months)
        self.programs.save_program(program, "staff:test", self.now, "expire after inactivity")
        self.model.program_saved(program)
        tally("program: switched to expiry after inactivity")

    # -- scheduled jobs -----------------------------------------------------------------------------------
    def nightly_jobs(self) -> None:
        """What the scheduler runs: release closed return windows, expire lots past their date, expire
        everything of members inactive for N months, remind before expiry."""
        released = self.model.release_due(self.now)
        expired = self.model.expire_due(self.now)
        lots = {m: len(self.model.members[m].lots) for m in self.member_ids}  # as the inactivity job finds them
        idle = self.model.expire_inactive(self.now)
        folded = self.jobs.folded
        reports = [self.jobs.release_due(self.now), self.jobs.expire_due(self.now)]
        self.jobs.committed.clear()
        # The inactivity job has nothing to do before the program expires after inactivity (nobody is
        # due): here it runs from the switch on, to spare DynamoDB Local a few calls a night.
        inactivity = self.model.program.expiry_mode is ExpiryMode.AFTER_INACTIVITY
        reports += [self.jobs.expire_inactive(self.now) if inactivity else JobReport("inactivity", self.tenant),
                    self.jobs.remind_expiring(self.now)]
        for report in reports:
            assert job_went_well(report), report
        assert [r.points for r in reports[:3]] == [released, expired, sum(idle.values())], (
            reports, released, expired, idle)
        assert sorted(reports[2].members) == sorted(idle), (reports[2], idle)
        # Each inactive member's lots go at most INACTIVITY_CHUNK per transaction, oldest first, the last
        # transaction taking the rest and the due mark (the books were checked after each).
        chunk = points_jobs.INACTIVITY_CHUNK
        for member_id in idle:
            removed = [n for m, n in self.jobs.committed if m == member_id]
            assert sum(removed) == lots[member_id] and max(removed, default=0) <= chunk, (member_id, removed, lots)
            assert len(removed) == max(1, math.ceil(lots[member_id] / chunk)), (member_id, removed, lots)
            tally(f"inactivity: a member expired in {'one transaction' if len(removed) == 1 else 'chunks'}"
                  f"{' with nothing left' if not idle[member_id] else ''}")
        if self.jobs.folded > folded:
            tally("jobs: spent points folded away")
        tally(f"jobs: {'released' if released else 'nothing released'}, {'expired' if expired else 'nothing expired'}")

    # -- what must always hold ------------------------------------------------------------------------------
    @invariant()
    def books_balance(self) -> None:
        for member_id in self.member_ids:
            books = assert_books_balance(self.tenant, member_id)
            self.lots_match_the_model(member_id, books)
        if self.jobs.folded and len(self.sent_returns) > self.returns_seen:
            tally("return: after spent points were folded away")
        self.returns_seen = len(self.sent_returns)

    def lots_match_the_model(self, member_id: str, books: dict[str, Any]) -> None:
        """One lot per bucket, each with what the model says it has left: walking the lots by expiry
        (undated last) and taking `lotsConsumed` from the oldest first."""
        consumed, left = books["consumed"], {}
        for lot in sorted(books["lot_items"], key=lambda x: (x.expires_on or "9999", x.SK)):
            take = min(consumed, int(lot.points))
            consumed -= take
            left[lot.SK.removeprefix(keys.LOT_PREFIX)] = int(lot.points) - take
        assert consumed == 0 and left == self.model.buckets(member_id), (
            member_id, left, self.model.members[member_id].lots)

    @invariant()
    def matches_the_model(self) -> None:
        program = self.programs.program()
        for member_id, m in self.model.members.items():
            pk = keys.member_pk(self.tenant, member_id)
            raws = raw_partition(pk)
            items = [TableItem.from_raw_data(r) for r in raws if r.get("kind", {}).get("S") in KINDS]
            # The member's points as `me { points }` reads them: the dashboard range of the partition.
            view = points_view([i for i in items if keys.DASHBOARD_FROM <= i.SK <= keys.DASHBOARD_TO],
                               program, self.now)
            assert view is not None
            assert (view.available, view.pending, view.lifetime, view.debt) == (
                m.available, m.pending, m.lifetime, m.debt), (member_id, view, m)
            soon = view.expiring_soon
            assert ((soon.points, soon.at) if soon else None) == self.model.expiring_soon(member_id, self.now), (
                member_id, soon, m.lots)
            records = {r.order_id: r for r in items if isinstance(r, OrderRecord)}
            assert set(records) == set(m.orders), (member_id, sorted(records), sorted(m.orders))
            for order_id, o in m.orders.items():
                r = records[order_id]
                held = int(r.pending_points) if r.status == "PENDING" else 0
                assert (r.status, held, int(r.points), datetime.fromisoformat(r.release_at),
                        sum(int(x["reversed"]) for x in r.lines)) == (
                    o.status, o.pending, o.points, o.release_at, sum(x.reversed for x in o.lines.values())), (
                    order_id, r.serialize(), o)
                # What came back of each line, in money and units: what later returns are checked against.
                came_back = {x["id"]: (Decimal(x.get("returned", 0)), int(x.get("returnedQuantity", 0))) for x in r.lines}
                assert came_back == {i: (x.returned, x.returned_quantity) for i, x in o.lines.items()}, (
                    order_id, r.lines, o)
            used = {r["SK"]["S"]: int(r["count"]["N"]) for r in raws if r["SK"]["S"].startswith("RLIM#")}
            for reward in REWARDS:
                if reward.per_member_limit is not None:  # the per-member counter, written by updates alone
                    assert used.get(f"RLIM#{reward.id}", 0) == self.model.active(reward.id, member_id), (
                        member_id, reward.id, used)
            coupons = {c.code: c.status for c in Coupon.lookup.query(f"{pk}#COUPONS")}
            assert coupons == {code: c.status for code, c in self.model.coupons.items() if c.member == member_id}, (
                member_id, coupons)
        stored = {i.reward_id: i for i in TableItem.query(keys.program_pk(self.tenant), consistent_read=True)
                  if isinstance(i, RewardItem)}
        for reward in REWARDS:
            item = stored[reward.id]
            left = None if item.stock_left is None else int(item.stock_left)
            assert (left, int(item.redeemed)) == (self.model.stock_left(reward.id), self.model.active(reward.id)), (
                reward.id, left, int(item.redeemed))


@pytest.mark.slow  # still part of the default run: nothing deselects `slow`
def test_every_step_does_what_the_rules_say_and_the_books_balance(services, monkeypatch) -> None:
    # `services` binds the models to the session's table on DynamoDB Local.
    monkeypatch.setattr(points_jobs, "INACTIVITY_CHUNK", INACTIVITY_CHUNK)
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
        phases=[p for p in Phase if SHRINK or p is not Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]))


def test_refunding_a_released_order_leaves_another_orders_pending_points_alone(services) -> None:
    """Found by the machine: a released order kept its old `pendingPoints`, so refunding it took the
    points from another order still in its return window, and that order could never be released."""
    books = LedgerMachine()
    books.record_order("o-1", [(100, 1)], 0, books.now, False)
    books.time_passes(15 * 24)  # and the jobs run: order 1 released, 100 available
    books.record_order("o-2", [(50, 1)], 0, books.now, False)  # 50 pending
    books.refund("o-1", "ret-1", "1", Decimal(100))  # 100 reversed, from available, not from o-2's pending
    books.books_balance()
    books.matches_the_model()
    me = books.model.members[books.member_id]
    assert (me.available, me.pending) == (WELCOME_POINTS[0], 50)
    books.time_passes(15 * 24)
    books.books_balance()
    books.matches_the_model()


def test_two_refunds_of_half_a_line_fit_and_a_third_is_refused_changing_nothing(services) -> None:
    books = LedgerMachine()
    books.record_order("o-1", [(30, 2)], 0, books.now, False)  # 60 points on the line's 60 dollars
    books.refund("o-1", "ret-1", "1", Decimal(30), 1)
    books.refund("o-1", "ret-2", "1", Decimal(30), 1)
    books.refund("o-1", "ret-3", "1", Decimal(30), 1)  # the machine checks it is refused and writes nothing
    line = books.model.members[books.member_id].orders["o-1"].lines["1"]
    assert (line.reversed, line.returned, line.returned_quantity) == (60, Decimal(60), 2)
    assert "ret-3" not in books.model.members[books.member_id].returns
    books.books_balance()
    books.matches_the_model()


@pytest.mark.xfail(strict=True, reason="an order whose exact points are whole, with line shares that are not "
                   "finite decimals, is credited a point short (domain.points.orders.earn sums 28-digit shares); "
                   "when this passes, drop ledger_model.TOLERATE_ONE_SHORT_ON_WHOLE_ORDERS")
def test_an_order_of_three_equal_lines_earns_every_point(services) -> None:
    books = LedgerMachine()
    # $120 of goods less $20 discount: 100 points at 1 point per dollar, rounded once for the order
    # (today 99: each line's 33.33... is cut to 28 digits, and their sum rounds down). About 1 in 40
    # of the machine's orders is hit.
    order = make_order("o-3x40", books.member_id, [(40, 1), (40, 1), (40, 1)], 20, books.now, None)
    assert books.orders.record(order, books.now).points == 100


# -- inactivity expiry: what `expiringSoon` announces is what the jobs do ------------------------------------------
def switch_to_inactivity(books: LedgerMachine, months: int) -> None:
    program = replace(PROGRAM, expiry_mode=ExpiryMode.AFTER_INACTIVITY, expiry_months=months)
    books.programs.save_program(program, "staff:test", books.now, "expire after inactivity")
    books.model.program_saved(program)


def view_of(books: LedgerMachine) -> Any:
    """The member's points as `me { points }` reads them."""
    card = list(TableItem.query(keys.member_pk(books.tenant, books.member_id),
                                TableItem.SK.between(keys.DASHBOARD_FROM, keys.DASHBOARD_TO), consistent_read=True))
    return points_view(card, books.programs.program(), books.now)


def run_jobs_at(books: LedgerMachine, at: datetime) -> None:
    """The nightly jobs, and nothing else (no model: these tests check the system against its own announcement)."""
    books.now = max(books.now, at)
    for job in (books.jobs.release_due, books.jobs.expire_due, books.jobs.expire_inactive, books.jobs.remind_expiring):
        assert job_went_well(job(books.now))


def announced_then_expired(books: LedgerMachine) -> tuple[tuple[int, datetime], int]:
    """Wait a day at a time (for at most a year) until `expiringSoon` announces an expiry, run the jobs
    on that date (now, if it is past), and return the announcement and the points the member lost."""
    for _ in range(366):
        view = view_of(books)
        if view.expiring_soon is not None:
            break
        books.now += timedelta(days=1)
    soon = view.expiring_soon
    assert soon is not None, "nothing was ever announced"
    run_jobs_at(books, soon.at)
    return (soon.points, soon.at), view.available - view_of(books).available


def test_points_announced_to_expire_for_inactivity_since_before_the_switch_expire_then(services) -> None:
    books = LedgerMachine()
    books.record_order("o-1", [(100, 1)], 0, books.now, False)  # the member's last activity
    books.time_passes(15 * 24)  # the jobs release its 100 points: 200 available
    switch_to_inactivity(books, 1)
    # Never marked by an activity under the new rule: the inactivity job's marking pass finds the member.
    announced, lost = announced_then_expired(books)  # 200 on 5 February, and lost then
    assert lost == announced[0], (announced, lost)


def test_points_credited_after_an_inactivity_expiry_expire_when_announced(services) -> None:
    books = LedgerMachine()
    switch_to_inactivity(books, 1)
    books.credits.record(books.member_id, REVIEW, "review-1", books.now)  # an activity: due on 5 February
    run_jobs_at(books, books.now + timedelta(days=31))  # the 115 points expire for inactivity
    assert view_of(books).available == 0
    books.now += timedelta(days=10)
    books.adjustments.adjust(books.member_id, 50, "goodwill", "staff:test", books.now)  # no activity
    # The credit marks the member again: the 50 go at the next run, 5 February being past.
    announced, lost = announced_then_expired(books)
    assert lost == announced[0], (announced, lost)


def test_a_bucket_dated_before_the_switch_to_inactivity_is_announced_before_it_expires(services) -> None:
    books = LedgerMachine()  # the 100 welcome points of January expire when April ends
    books.now = datetime(2026, 4, 15, 9, tzinfo=timezone.utc)
    switch_to_inactivity(books, 2)
    books.credits.record(books.member_id, REVIEW, "review-1", books.now)  # an activity: due on 15 June
    soon = view_of(books).expiring_soon  # the 100 that go on 1 May, before everything on 15 June
    before = view_of(books).available
    run_jobs_at(books, datetime(2026, 5, 1, tzinfo=timezone.utc))
    lost = before - view_of(books).available
    assert lost == 100 and soon is not None, (soon, lost)
    assert (soon.points, soon.at) == (100, datetime(2026, 5, 1, tzinfo=timezone.utc)), soon
