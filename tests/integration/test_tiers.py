"""Tiers against DynamoDB Local: upgrades as the credit commits, downgrades only at period end by the
program's policy, refunds that never downgrade mid-period, the at-risk notice, staff tiers, ladder edits."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bench.common import DynamoCallCounter
from domain.members import Enrollment
from domain.points.orders import Order, OrderLine, ReturnedLine, ReturnRequest, ReturnResolution
from domain.tiers.ladder import Benefit, BenefitType, DowngradePolicy, Ladder, QualificationPeriod, Tier
from domain.tiers.status import ManualMode
from infra import keys
from infra.items import MemberProfile, OutboxEvent, TableItem
from infra.members import Members
from infra.points.adjustments import Adjustments
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.tiers.history import TierChange
from infra.tiers.jobs import TierJobs, TierRecalculation
from infra.tiers.ladder_store import ApplyFrom, save_ladder
from infra.tiers.staff import TierDesk
from infra.tiers.standing import member_standing
from tests.support import new_tenant

UTC = timezone.utc
JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)


def ladder(period=QualificationPeriod.CALENDAR_YEAR, policy=DowngradePolicy.RECALCULATE, **kw) -> Ladder:
    return Ladder(tiers=(Tier("member", "Member", 1, Decimal(0)),
                         Tier("silver", "Silver", 2, Decimal(500), entry_points=50),
                         Tier("gold", "Gold", 3, Decimal(2000),
                              benefits=(Benefit(BenefitType.POINTS_MULTIPLIER, multiplier=Decimal("1.5")),
                                        Benefit(BenefitType.FREE_SHIPPING)))),
                  period=period, policy=policy, **kw)


class Program:
    """A tenant of the test's own with a ladder, and its stores."""

    def __init__(self, services, lad: Ladder, tz: str = "UTC"):
        self.tenant = new_tenant()
        self.store = ProgramStore(self.tenant, services.programs)
        if tz != "UTC":
            from dataclasses import replace
            self.store.save_program(replace(self.store.program(), timezone=tz), "test", JAN, "zone")
        save_ladder(self.store, lad, ApplyFrom.NOW, "test", JAN, "ladder")
        self.members = Members(self.tenant)
        self.adjust = Adjustments(self.tenant, self.store)
        self.orders = OrderBook(self.tenant, self.store)
        self.jobs = TierJobs(self.tenant, self.store)

    def member(self) -> str:
        m = f"m-{uuid.uuid4().hex[:8]}"
        self.members.enroll(m, Enrollment("Aiko", f"{m}@example.com", None, False), JAN.isoformat(),
                            int(JAN.timestamp()))
        return m

    def earn(self, m: str, points: int, at: datetime) -> None:
        self.adjust.adjust(m, points, "qualifying credit", "staff:test", at, qualifying=True)

    def profile(self, m: str) -> MemberProfile:
        return MemberProfile.get(keys.member_pk(self.tenant, m), keys.PROFILE, consistent_read=True)

    def tier(self, m: str, at: datetime) -> str | None:
        s = member_standing(self.profile(m), self.store.program(), at)
        return s.tier.id if s and s.tier else None

    def history(self, m: str) -> list[TierChange]:
        return list(TierChange.query(keys.member_pk(self.tenant, m), TierChange.SK.startswith("TIERLOG#"),
                                     consistent_read=True))

    def events(self, m: str, kind: str) -> list[OutboxEvent]:
        return [e for e in TableItem.query(keys.member_pk(self.tenant, m), TableItem.SK.startswith("~OUT#"),
                                           consistent_read=True)
                if isinstance(e, OutboxEvent) and e.event_type == kind]


@pytest.fixture
def program(services):
    return Program(services, ladder())


def test_a_credit_that_crosses_a_threshold_upgrades_in_its_own_single_transaction(services, program):
    m = program.member()
    program.earn(m, 400, JAN)
    assert program.tier(m, JAN) == "member"
    calls = DynamoCallCounter(TableItem._get_connection().connection.client)  # the client the models use now
    try:
        program.earn(m, 150, JAN + timedelta(days=1))
    finally:
        calls.close()
    assert calls.calls == ["TransactWriteItems"]
    assert program.tier(m, JAN + timedelta(days=1)) == "silver"


def test_an_order_qualifies_in_its_local_month_and_its_return_takes_the_qualification_back(services):
    p = Program(services, ladder(), tz="Asia/Tokyo")
    m = p.member()
    late = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # 00:30 on 1 April in Tokyo
    order = Order("o-1", "JPY", late, (OrderLine("1", 1, Decimal("60000"), category="tea"),), Decimal("60000"),
                  Decimal("60000"), member_id=m)
    p.orders.record(order, late)
    prof = p.profile(m)
    assert prof.qual_points == {"2026-04": 600} and int(prof.qual_points_all) == 600
    assert p.tier(m, late) == "silver"
    p.orders.process_return(ReturnRequest("o-1", "r-1", ReturnResolution.REFUND,
                                          (ReturnedLine("1", Decimal("30000"), 1),)), late + timedelta(days=3))
    prof = p.profile(m)
    assert prof.qual_points == {"2026-04": 300}  # half the money back: half the points
    # Below Silver's threshold now, but a refund never downgrades mid-period: the tier is retained.
    assert p.tier(m, late + timedelta(days=3)) == "silver"
    assert prof.tier_held == "silver"


def test_two_concurrent_credits_crossing_the_same_threshold_make_one_upgrade_and_one_event(services, program, events):
    m = program.member()
    program.earn(m, 400, JAN)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def credit() -> None:
        try:
            barrier.wait()
            program.earn(m, 150, JAN + timedelta(hours=1))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=credit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events.drain()
    # One ledger effect each (400 + 150 + 150), and Silver's entry points (50) once.
    assert int(program.profile(m).available) == 750
    changes = [h for h in program.history(m) if h.to_tier == "silver"]
    assert len(changes) == 1 and changes[0].cause == "CREDIT" and changes[0].entry
    assert len([e for e in program.events(m, "tier.changed") if e.detail["toTier"] == "silver"]) == 1
    # Silver's entry points once.
    entry = [e for e in program.events(m, "points.earned") if e.detail.get("tier") == "silver"]
    assert len(entry) == 1 and entry[0].detail["points"] == 50


@pytest.mark.parametrize("policy,after_end,after_grace", [
    (DowngradePolicy.RECALCULATE, "member", "member"),
    (DowngradePolicy.DROP_ONE, "silver", "silver"),
    (DowngradePolicy.GRACE, "gold", "member"),
])
def test_a_period_end_downgrades_by_the_programs_policy_and_only_then(services, policy, after_end, after_grace):
    p = Program(services, ladder(policy=policy, grace_days=30))
    m = p.member()
    p.earn(m, 2100, JAN)  # Gold in 2026, kept through 2027
    assert p.tier(m, JAN) == "gold"
    p.jobs.evaluate_due(datetime(2027, 1, 1, 1, tzinfo=UTC))  # the end of 2026 confirms it for 2027
    assert p.tier(m, datetime(2027, 1, 1, 2, tzinfo=UTC)) == "gold"
    p.earn(m, 100, datetime(2027, 3, 1, tzinfo=UTC))  # 2027 qualifies only 100: Member level
    end_2027 = datetime(2028, 1, 1, tzinfo=UTC)
    assert p.tier(m, end_2027 - timedelta(seconds=1)) == "gold"
    p.jobs.evaluate_due(end_2027 + timedelta(hours=1))
    assert p.tier(m, end_2027 + timedelta(hours=1)) == after_end
    again = p.jobs.evaluate_due(end_2027 + timedelta(hours=2))
    assert again.processed == 0  # idempotent: the period end is applied once
    p.jobs.evaluate_due(end_2027 + timedelta(days=31))
    assert p.tier(m, end_2027 + timedelta(days=31)) == after_grace
    causes = [h.cause for h in p.history(m)]
    assert ("PERIOD_END" in causes) == (after_end != "gold")


def test_a_refund_below_the_threshold_keeps_the_tier_until_the_period_end(services, program):
    m = program.member()
    order = Order("big", "JPY", JAN, (OrderLine("1", 1, Decimal("210000")),), Decimal("210000"), Decimal("210000"),
                  member_id=m)
    program.orders.record(order, JAN)
    assert program.tier(m, JAN) == "gold"
    program.orders.process_return(ReturnRequest("big", "r", ReturnResolution.REFUND,
                                                (ReturnedLine("1", Decimal("210000"), 1),)), JAN + timedelta(days=5))
    assert program.tier(m, JAN + timedelta(days=5)) == "gold"
    assert program.tier(m, datetime(2026, 12, 31, 23, tzinfo=UTC)) == "gold"
    program.jobs.evaluate_due(datetime(2027, 1, 1, 1, tzinfo=UTC))
    assert program.tier(m, datetime(2027, 6, 1, tzinfo=UTC)) == "gold"
    # Reached in 2026, kept through 2027 as if not refunded, then 2027 qualified nothing.
    program.jobs.evaluate_due(datetime(2028, 1, 1, 1, tzinfo=UTC))
    assert program.tier(m, datetime(2028, 1, 1, 1, tzinfo=UTC)) == "member"


def test_rolling_twelve_months_drop_old_months_at_the_month_end(services):
    p = Program(services, ladder(period=QualificationPeriod.ROLLING_12_MONTHS))
    m = p.member()
    p.earn(m, 600, datetime(2026, 1, 15, tzinfo=UTC))
    assert p.tier(m, datetime(2026, 12, 31, tzinfo=UTC)) == "silver"  # January still in the window
    p.jobs.evaluate_due(datetime(2026, 2, 1, 1, tzinfo=UTC))  # January's end: kept
    assert p.tier(m, datetime(2026, 12, 31, 23, tzinfo=UTC)) == "silver"
    for month in range(2, 13):
        p.jobs.evaluate_due(datetime(2026, month, 1, 1, tzinfo=UTC) if month > 2 else datetime(2026, 2, 1, 2, tzinfo=UTC))
    p.jobs.evaluate_due(datetime(2027, 1, 1, 1, tzinfo=UTC))
    p.jobs.evaluate_due(datetime(2027, 1, 2, tzinfo=UTC))
    # The window ending with January 2027 no longer holds January 2026.
    p.jobs.evaluate_due(datetime(2027, 2, 1, 1, tzinfo=UTC))
    assert p.tier(m, datetime(2027, 2, 1, 2, tzinfo=UTC)) == "member"


def test_a_member_about_to_drop_gets_one_tier_at_risk_event_with_the_points_still_needed(services):
    p = Program(services, ladder(risk_days=14))
    m = p.member()
    p.earn(m, 2100, JAN)
    p.jobs.evaluate_due(datetime(2027, 1, 1, 1, tzinfo=UTC))
    p.earn(m, 300, datetime(2027, 2, 1, tzinfo=UTC))  # 2027: 300 of Gold's 2,000
    notice = datetime(2027, 12, 18, tzinfo=UTC)  # 14 days before the end of 2027
    p.jobs.evaluate_due(notice)
    p.jobs.evaluate_due(notice + timedelta(days=1))
    risk = p.events(m, "tier.at_risk")
    assert len(risk) == 1
    assert risk[0].detail["tier"] == "gold" and Decimal(risk[0].detail["pointsNeeded"]) == 1700
    assert risk[0].detail["periodEndsAt"] == "2028-01-01T00:00:00+00:00"


def test_staff_override_holds_exactly_its_tier_until_its_date_and_a_floor_lets_qualification_lift(services, program):
    m = program.member()
    desk = TierDesk(program.tenant, program.store)
    desk.set_manual(m, "gold", ManualMode.OVERRIDE, JAN + timedelta(days=10), "VIP event guest", "staff:a", JAN)
    assert program.tier(m, JAN + timedelta(days=1)) == "gold"
    program.jobs.evaluate_due(JAN + timedelta(days=11))
    assert program.tier(m, JAN + timedelta(days=11)) == "member"
    assert [h.cause for h in sorted(program.history(m), key=lambda h: h.SK)][-1] == "STAFF_EXPIRY"
    desk.set_manual(m, "silver", ManualMode.FLOOR, None, "Apology", "staff:a", JAN + timedelta(days=12))
    assert program.tier(m, JAN + timedelta(days=12)) == "silver"
    program.earn(m, 2000, JAN + timedelta(days=13))
    assert program.tier(m, JAN + timedelta(days=13)) == "gold"
    stored = program.profile(m).tier_manual
    assert stored["mode"] == "FLOOR"  # never quietly something else


def test_a_ladder_edit_applies_from_the_next_period_and_a_recalculation_pays_no_entry_points_twice(services, program,
                                                                                                    events):
    m = program.member()
    program.earn(m, 600, datetime.now(UTC))
    events.drain()
    harder = Ladder(tiers=(Tier("member", "Member", 1, Decimal(0)), Tier("silver", "Silver", 2, Decimal(1000),
                                                                         entry_points=50)))
    now = datetime.now(UTC)
    save_ladder(program.store, harder, ApplyFrom.NEXT_PERIOD, "staff:a", now, "harder")
    assert program.tier(m, now) == "silver"  # nobody re-tiered by the edit itself
    save_ladder(program.store, harder, ApplyFrom.NOW, "staff:a", now, "apply now")
    report = TierRecalculation(program.tenant, program.store).run(now)
    assert report.processed == 1
    assert program.tier(m, now) == "member"
    program.earn(m, 500, now)
    events.drain()
    assert program.tier(m, now) == "silver"
    entries = [e for e in program.events(m, "points.earned") if e.detail.get("tier") == "silver"]
    assert len(entries) == 1  # reached Silver twice, paid once


def test_a_tier_gated_reward_is_for_that_rank_and_above(services, program):
    from domain.points.rewards import Reward, RewardKind, check_tier
    from domain.errors import UserError
    lad = program.store.program().tiers.current
    reward = Reward(id="lounge", name="Lounge", kind=RewardKind.FREE_SHIPPING, points_cost=10, tier_gate="silver")
    check_tier(reward, "gold", lad)
    check_tier(reward, "silver", lad)
    with pytest.raises(UserError):
        check_tier(reward, "member", lad)


def test_the_tiers_birthday_gift_arrives_once_on_the_members_birthday(services):
    from datetime import date

    from infra.points.jobs import PointsJobs
    lad = Ladder(tiers=(Tier("member", "Member", 1, Decimal(0)),
                        Tier("silver", "Silver", 2, Decimal(500),
                             benefits=(Benefit(BenefitType.BIRTHDAY_GIFT, points=300),))))
    p = Program(services, lad)
    m = f"m-{uuid.uuid4().hex[:8]}"
    p.members.enroll(m, Enrollment("Aiko", f"{m}@example.com", date(1991, 3, 14), False), JAN.isoformat(),
                     int(JAN.timestamp()))
    p.earn(m, 600, JAN)
    birthday = datetime(2026, 3, 14, 9, tzinfo=UTC)
    jobs = PointsJobs(p.tenant, p.store)
    first, again = jobs.birthdays(birthday), jobs.birthdays(birthday + timedelta(hours=3))
    assert (first.processed, first.points, again.processed) == (1, 300, 0)
    assert int(p.profile(m).available) == 900


def test_only_what_qualifies_moves_qualification_spend_in_the_ladders_currency_and_flagged_adjustments(services):
    from domain.tiers.ladder import Basis
    lad = Ladder(tiers=(Tier("member", "Member", 1, Decimal(0)), Tier("silver", "Silver", 2, Decimal(50000))),
                 basis=Basis.SPEND, currency="JPY")
    p = Program(services, lad)
    m = p.member()
    p.adjust.adjust(m, 900, "goodwill", "staff:test", JAN)  # not flagged: no qualification
    usd = Order("usd-1", "USD", JAN, (OrderLine("1", 1, Decimal("400")),), Decimal("400"), Decimal("400"), member_id=m)
    p.orders.record(usd, JAN)  # another currency: points, but no JPY spend
    prof = p.profile(m)
    assert prof.qual_spend == {} and int(prof.qual_points_all) == 400  # the order's points still qualify as points
    jpy = Order("jpy-1", "JPY", JAN, (OrderLine("1", 2, Decimal("30000")),), Decimal("60000"), Decimal("66000"),
                member_id=m)
    p.orders.record(jpy, JAN)
    assert p.profile(m).qual_spend == {"2026-01": Decimal("60000")} and p.tier(m, JAN) == "silver"
    p.orders.process_return(ReturnRequest("jpy-1", "r-1", ReturnResolution.REFUND,
                                          (ReturnedLine("1", Decimal("30000"), 1),)), JAN + timedelta(days=2))
    assert p.profile(m).qual_spend == {"2026-01": Decimal("30000")}
    assert p.tier(m, JAN + timedelta(days=2)) == "silver"  # retained until the period ends


def test_a_tiers_points_multiplier_applies_to_the_members_next_orders(program):
    m = program.member()
    program.earn(m, 2000, JAN)  # Gold: 1.5x on order points
    result = program.orders.record(Order("after-gold", "JPY", JAN, (OrderLine("1", 1, Decimal("10000")),),
                                         Decimal("10000"), Decimal("10000"), member_id=m), JAN)
    assert result.points == 150


def test_a_tier_change_two_writers_see_at_once_is_recorded_once(services, program, monkeypatch):
    """The listener reads the member, and before it commits another writer records the same change:
    its commit is refused on `tierAnnounced`, it looks again and records nothing more."""
    from infra.events.model import Env, Event
    from infra.tiers import listener as tier_listener
    m = program.member()
    program.earn(m, 600, JAN)  # Silver, not recorded yet (no processor runs here)
    env = Env(now=JAN + timedelta(hours=1), programs=lambda tenant: program.store)

    def event(n: int) -> Event:
        return Event(program.tenant, m, f"01TIERRACE{n:016d}", "points.adjusted", JAN,
                     {"qualifying": 600, "entry": f"TX#race-{n}"})

    real_get = MemberProfile.get
    raced: list[int] = []

    def get_then_race(*args, **kwargs):
        profile = real_get(*args, **kwargs)
        if not raced:  # the first read: the other writer records the change before this one commits
            raced.append(1)
            other = threading.Thread(target=tier_listener.TierAnnouncer().handle, args=(event(2), env))
            other.start()
            other.join()
        return profile

    monkeypatch.setattr(MemberProfile, "get", get_then_race)
    tier_listener.TierAnnouncer().handle(event(1), env)
    changes = [h for h in program.history(m) if h.to_tier == "silver"]
    assert len(changes) == 1 and changes[0].entry == "TX#race-2"
    assert len(program.events(m, "tier.changed")) == 1


def test_a_credit_during_a_grace_period_keeps_the_grace_ends_due_mark(services):
    """The job owes a member the end of their grace period; a credit then must not move that mark to the
    end of the new year (it sets one only when there is none), or the drop would be recorded (history,
    `tier.changed`) only then."""
    p = Program(services, ladder(policy=DowngradePolicy.GRACE, grace_days=30))
    m = p.member()
    p.earn(m, 2100, JAN)
    p.jobs.evaluate_due(datetime(2027, 1, 1, 1, tzinfo=UTC))
    p.earn(m, 100, datetime(2027, 3, 1, tzinfo=UTC))
    p.jobs.evaluate_due(datetime(2028, 1, 1, 1, tzinfo=UTC))  # 2027 supports Member: 30 days of grace
    assert p.tier(m, datetime(2028, 1, 5, tzinfo=UTC)) == "gold"
    p.earn(m, 100, datetime(2028, 1, 10, tzinfo=UTC))
    p.jobs.evaluate_due(datetime(2028, 2, 1, 1, tzinfo=UTC))
    assert p.tier(m, datetime(2028, 2, 1, 2, tzinfo=UTC)) == "member"
    ends = [(h.to_tier, h.at[:10]) for h in p.history(m) if h.cause == "GRACE_END"]
    assert ends == [("member", "2028-02-01")]
