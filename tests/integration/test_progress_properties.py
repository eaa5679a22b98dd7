"""Progress, awards and tier always agree with what the ledger says happened, whatever mix of orders,
refunds, activities and clock moves (across year ends, with the nightly tier job) arrives.

A hypothesis state machine drives the infra use cases against DynamoDB Local on a clock only it moves;
the event processor (the real listeners, on that clock) runs after every step, as the stream would.
After each step the stored state is compared with a model recomputed from the member's ledger entries
and order records, not from what the machine remembers it did:
- the tier the profile gives is the highest tier any moment of this year supported, or that the
  previous year reached (a calendar-year ladder with RECALCULATE keeps a tier through the next year, and
  a refund never lowers it mid-year);
- every badge is held exactly when its criterion was ever met (orders counted from the order records,
  posts from the ledger's ACTION entries, spend from what is left of the orders' money), each once;
- progress toward every badge not held is the counted number, capped at the target;
- the window challenge is completed once, exactly when three posts fell inside its window;
- the bonus credits in the ledger are exactly the bonuses of what was awarded, each once.

Size: a fifth of KIZUNA_PROPERTY_EXAMPLES (default 30: 6 examples; each step also drains the stream) of
KIZUNA_PROPERTY_STEPS (default 30) steps.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from domain import calendar
from domain.badges.criteria import KINDS
from domain.badges.criteria.base import Spec
from domain.badges.definitions import Badge
from domain.challenges.definitions import Challenge
from domain.members import Enrollment
from domain.points.orders import Order, OrderLine, ReturnedLine, ReturnRequest, ReturnResolution
from domain.points.program import ActionRule, DEFAULT_PROGRAM
from domain.tiers.ladder import DowngradePolicy, Ladder, QualificationPeriod, Tier
from infra import keys
from infra.badges.items import BadgeAward
from infra.badges.store import BadgeStore
from infra.challenges.store import ChallengeStore
from infra.events.listeners import register_all
from infra.events.processor import Processor, env_factory
from infra.events.stream import StreamReader
from infra.items import MemberProfile, TableItem
from infra.members import Members
from infra.points.adjustments import ActionCredits
from infra.points.items import LedgerEntry, OrderRecord
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.progress.items import ChallengeProgress, ProgressCounters
from domain.progress.counters import Counters
from infra.tiers.jobs import TierJobs
from infra.tiers.ladder_store import ApplyFrom, save_ladder
from infra.tiers.standing import member_standing
from tests.support import new_tenant

EXAMPLES = int(os.environ.get("KIZUNA_PROPERTY_EXAMPLES", "30"))
STEPS = int(os.environ.get("KIZUNA_PROPERTY_STEPS", "30"))
SHRINK = os.environ.get("KIZUNA_PROPERTY_SHRINK", "1") != "0"

UTC = timezone.utc
START = datetime(2026, 10, 1, 9, tzinfo=UTC)
TZ = "America/New_York"
POST, REVIEW = "unboxing_post", "review_written"
LADDER = Ladder((Tier("base", "Base", 1, Decimal(0)), Tier("silver", "Silver", 2, Decimal(300)),
                 Tier("gold", "Gold", 3, Decimal(900))),
                period=QualificationPeriod.CALENDAR_YEAR, policy=DowngradePolicy.RECALCULATE,
                qualifying_actions=(POST,))
BADGES = (Badge("first-order", "First order", Spec("FIRST_PURCHASE"), bonus_points=10),
          Badge("three-orders", "Three orders", Spec("PURCHASES", count=3)),
          Badge("two-posts", "Two posts", Spec("CUSTOM_ACTIVITY", count=2, action=POST), bonus_points=5),
          Badge("spender", "Spender", Spec("SPEND_TOTAL", amount=Decimal(30000), currency="JPY"), bonus_points=7))
WINDOW = (START + timedelta(days=10), START + timedelta(days=70))
CHALLENGE = Challenge("autumn-posts", "Three posts this autumn", Spec("CUSTOM_ACTIVITY", count=3, action=POST),
                      WINDOW[0], WINDOW[1], reward_points=25)
BONUS = {b.id: b.bonus_points for b in BADGES}


class ProgressMachine(RuleBasedStateMachine):
    def __init__(self, services, reader_of) -> None:
        super().__init__()
        self.now = START
        self.tenant = new_tenant()
        self.store = ProgramStore(self.tenant, services.programs)
        program = replace(DEFAULT_PROGRAM, timezone=TZ, actions=(ActionRule(POST, 40), ActionRule(REVIEW, 20)))
        self.store.save_program(program, "test", START, "setup")
        save_ladder(self.store, LADDER, ApplyFrom.NOW, "test", START, "setup")
        badges = BadgeStore(self.tenant, self.store)
        for b in BADGES:
            badges.save(b, "test", START, existing=None)
        ChallengeStore(self.tenant, self.store).save(CHALLENGE, "test", START, existing=None)
        services.programs.invalidate(self.tenant)
        self.member = f"m-{uuid.uuid4().hex[:8]}"
        Members(self.tenant).enroll(self.member, Enrollment("Kai", f"{self.member}@example.com", None, False),
                                    START.isoformat(), int(START.timestamp()))
        self.orders = OrderBook(self.tenant, self.store)
        self.actions = ActionCredits(self.tenant, self.store, self.orders)
        self.jobs = TierJobs(self.tenant, self.store)
        self.processor = Processor(env_factory(services.programs, clock=lambda: self.now), reader=reader_of())
        self.order_ids: list[str] = []
        self.peak: dict[int, int] = {}  # local year -> highest rank any moment of it supported
        self.ever_spend = Decimal(0)

    # -- steps ------------------------------------------------------------------------------------
    @rule(amount=st.sampled_from([Decimal(5000), Decimal(12000), Decimal(30000), Decimal(64000)]))
    def order(self, amount: Decimal) -> None:
        oid = f"o-{uuid.uuid4().hex[:10]}"
        self.orders.record(Order(oid, "JPY", self.now, (OrderLine("1", 2, amount / 2, category="tea"),), amount,
                                 amount, member_id=self.member), self.now)
        self.order_ids.append(oid)

    @precondition(lambda self: self.order_ids)
    @rule(which=st.integers(min_value=0, max_value=10), share=st.sampled_from([Decimal("0.5"), Decimal(1)]))
    def refund(self, which: int, share: Decimal) -> None:
        oid = self.order_ids[which % len(self.order_ids)]
        record = self._record(oid)
        line = next(x for x in record.lines)
        left = Decimal(line.get("refundable", line["paid"])) - Decimal(line.get("returned", "0"))
        amount = (left * share).quantize(Decimal(1))
        if amount <= 0:
            return
        units_left = int(line["quantity"]) - int(line.get("returnedQuantity", 0) or 0)
        qty = 1 if units_left >= 1 and share < 1 else units_left
        try:
            self.orders.process_return(ReturnRequest(oid, f"r-{uuid.uuid4().hex[:8]}", ReturnResolution.REFUND,
                                                     (ReturnedLine("1", amount, qty or None),)), self.now)
        except Exception as e:  # a refund the order cannot take is refused as a whole: nothing to model
            assert type(e).__name__ in ("ReturnRefused", "UserErrors", "UserError"), e

    @rule(action=st.sampled_from([POST, REVIEW]))
    def activity(self, action: str) -> None:
        self.actions.record(self.member, action, uuid.uuid4().hex[:12], self.now)

    @rule(days=st.integers(min_value=1, max_value=75), hours=st.integers(min_value=0, max_value=23))
    def clock(self, days: int, hours: int) -> None:
        before = self.now
        self.now = self.now + timedelta(days=days, hours=hours)
        if calendar.year_key(before, TZ) != calendar.year_key(self.now, TZ):
            # The nightly job, just after the local year end (the book keeps its result for the year).
            year_end = calendar.year_start(int(calendar.year_key(self.now, TZ)), TZ)
            saved, self.now = self.now, year_end + timedelta(hours=1)
            self._settle()
            self.jobs.evaluate_due(self.now)
            self.now = saved
        self.jobs.evaluate_due(self.now)

    # -- the model, from the ledger -----------------------------------------------------------------
    def _record(self, oid: str) -> OrderRecord:
        return OrderRecord.get(keys.member_pk(self.tenant, self.member), keys.order_sk(oid), consistent_read=True)

    def _items(self) -> list[TableItem]:
        return list(TableItem.query(keys.member_pk(self.tenant, self.member), consistent_read=True))

    def _settle(self) -> None:
        self.processor.drain(timeout=30)
        items = self._items()
        qualifying = self._qualification_by_year(items)
        year = int(calendar.year_key(self.now, TZ))
        rank = max((t.rank for t in LADDER.tiers if t.threshold <= qualifying.get(year, 0)), default=0)
        self.peak[year] = max(self.peak.get(year, 0), rank)
        self.ever_spend = max(self.ever_spend, self._spend(items))

    def _qualification_by_year(self, items: list[TableItem]) -> dict[int, int]:
        """Qualifying points per local year: order points in the year they were credited less what their
        refunds took back, and the points of the qualifying action."""
        by_year: dict[int, int] = {}
        for x in items:
            if isinstance(x, OrderRecord):
                year = int(x.qual_month[:4])
                left = int(x.points) - sum(int(line.get("reversed", 0)) for line in x.lines)
                by_year[year] = by_year.get(year, 0) + left
            elif isinstance(x, LedgerEntry) and x.entry_type == "ACTION" and x.reason == POST:
                year = int(calendar.year_key(datetime.fromisoformat(x.created_at), TZ))
                by_year[year] = by_year.get(year, 0) + int(x.points)
        return by_year

    @staticmethod
    def _spend(items: list[TableItem]) -> Decimal:
        total = Decimal(0)
        for x in items:
            if isinstance(x, OrderRecord):
                for line in x.lines:
                    total += Decimal(line["paid"]) - Decimal(line.get("refunded", "0"))
        return total

    @invariant()
    def progress_awards_and_tier_agree_with_the_ledger(self) -> None:
        self._settle()
        items = self._items()
        orders = [x for x in items if isinstance(x, OrderRecord)]
        posts = [x for x in items if isinstance(x, LedgerEntry) and x.entry_type == "ACTION" and x.reason == POST]
        held = {x.badge_id: x for x in items if isinstance(x, BadgeAward)}
        expected = {b for b, met in (("first-order", len(orders) >= 1), ("three-orders", len(orders) >= 3),
                                     ("two-posts", len(posts) >= 2), ("spender", self.ever_spend >= 30000)) if met}
        assert set(held) == expected, (set(held), expected)

        counters = next((Counters.from_dict(x.counters) for x in items if isinstance(x, ProgressCounters)), Counters())
        counted = {"first-order": Decimal(min(len(orders), 1)), "three-orders": Decimal(min(len(orders), 3)),
                   "two-posts": Decimal(min(len(posts), 2)), "spender": min(self._spend(items), Decimal(30000))}
        for b in BADGES:
            if b.id in held:
                continue
            current, target = KINDS[b.criterion.kind].progress(counters, b.criterion)
            assert (min(current, target), target) == (counted[b.id], KINDS[b.criterion.kind].target(b.criterion)), b.id

        in_window = [p for p in posts if WINDOW[0] <= datetime.fromisoformat(p.created_at) < WINDOW[1]]
        challenge = next((x for x in items if isinstance(x, ChallengeProgress)), None)
        done = challenge is not None and challenge.completed_at is not None
        assert done == (len(in_window) >= 3), (done, len(in_window))

        bonuses = [x for x in items if isinstance(x, LedgerEntry) and x.entry_type == "BONUS"]
        assert sum(int(x.points) for x in bonuses) == sum(BONUS[b] for b in held) + (25 if done else 0)
        sources = [x for x in items if getattr(x, "cause", "").startswith(("badge:", "challenge:"))
                   and x.SK.startswith(keys.SOURCE_PREFIX)]
        assert len(sources) == len({s.SK for s in sources})  # one credit per cause

        profile = next(x for x in items if isinstance(x, MemberProfile))
        standing = member_standing(profile, self.store.program(), self.now)
        year = int(calendar.year_key(self.now, TZ))
        want = max(self.peak.get(year, 0), self.peak.get(year - 1, 0))
        got = standing.tier.rank if standing and standing.tier else 0
        assert got == want, (got, want, self.peak, self.now)


@pytest.mark.slow
def test_progress_awards_and_tier_agree_with_the_ledger_after_every_step(services, stream_of_table) -> None:
    register_all()
    client, arn = stream_of_table

    class Machine(ProgressMachine):
        def __init__(self) -> None:
            super().__init__(services, lambda: StreamReader(client, arn, start="LATEST"))

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=max(EXAMPLES // 5, 4), stateful_step_count=STEPS, deadline=None,
        phases=[p for p in Phase if SHRINK or p is not Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]))
