"""Expiry after N months of inactivity finds every member it announces, against DynamoDB Local.

A member is due when their last activity is N months past and they hold available points; `expiringSoon`
tells them that date. The inactivity job finds them through due marks (GSI2 `DUE#INACTIVE`): an activity
writes the exact date, a credit without activity marks an unmarked member "now" in the same single write,
the job moves a mark set too soon to the date, and after the program switches to the rule (or changes its
months) the job's marking pass walks the members list once, in pages, within its budget, from its cursor,
each member on its own, to mark everyone holding points by the new rule.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from domain.members import Enrollment
from domain.points.balance import EntryType
from domain.points.program import DEFAULT_PROGRAM, ActionRule, ExpiryMode
from infra import keys
from infra.items import MemberProfile, TableItem
from infra.jobs_state import MARKING_JOB, PASS_SK, Budget, Lease, MarkingPass
from infra.members import Members
from infra.points.adjustments import ActionCredits, Adjustments
from infra.points.history import points_view
from infra.points.items import LedgerEntry
from infra.points.jobs import PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from tests.api.points_support import assert_books_balance
from tests.faults import error_response
from tests.support import new_tenant
from tests.integration.test_jobs_at_scale import Countdown

REVIEW = "review_written"
EARNING = replace(DEFAULT_PROGRAM, expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12,
                  actions=(ActionRule(REVIEW, 5),))
IDLE_2 = replace(EARNING, expiry_mode=ExpiryMode.AFTER_INACTIVITY, expiry_months=2)
T0 = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)
SWITCH = T0 + timedelta(days=20)
INACTIVE = "INACTIVE"


class Tenant:
    def __init__(self, services: Any, program: Any, at: datetime):
        self.id = new_tenant()
        self.store = ProgramStore(self.id, services.programs)
        self.store.save_program(program, "test", at)
        self.staff = Adjustments(self.id, self.store)
        self.credits = ActionCredits(self.id, self.store, OrderBook(self.id, self.store))

    def member(self, member_id: str, at: datetime, points: int = 0) -> str:
        Members(self.id).enroll(member_id, Enrollment("Aiko", f"{member_id}@example.com", date(1990, 4, 1), False),
                                at.isoformat(), int(at.timestamp()))
        if points:
            self.staff.adjust(member_id, points, "welcome", "staff:test", at)
        return member_id

    def switch(self, program: Any, at: datetime) -> None:
        self.store.save_program(program, "staff:test", at, "expire after inactivity")

    def jobs(self, **options: Any) -> PointsJobs:
        return PointsJobs(self.id, self.store, **options)

    def profile(self, member_id: str) -> MemberProfile:
        return MemberProfile.get(keys.member_pk(self.id, member_id), keys.PROFILE, consistent_read=True)

    def mark(self, member_id: str) -> str | None:
        """The member's inactivity due date as marked, or None."""
        p = self.profile(member_id)
        if p.GSI2PK is None:
            return None
        assert p.GSI2PK == keys.due_pk(self.id, INACTIVE)
        return p.GSI2SK.rsplit("#", 1)[0]

    def expired(self, member_id: str) -> int:
        return -sum(int(e.points) for e in TableItem.query(keys.member_pk(self.id, member_id),
                                                           TableItem.SK.startswith(keys.LEDGER_PREFIX))
                    if isinstance(e, LedgerEntry) and e.entry_type == EntryType.EXPIRY.value)

    def announced(self, member_id: str, now: datetime) -> Any:
        card = list(TableItem.query(keys.member_pk(self.id, member_id),
                                    TableItem.SK.between(keys.DASHBOARD_FROM, keys.DASHBOARD_TO), consistent_read=True))
        return points_view(card, self.store.program(), now).expiring_soon

    def owed(self) -> bool:
        try:
            MarkingPass.get(keys.job_pk(self.id, MARKING_JOB), PASS_SK, consistent_read=True)
            return True
        except MarkingPass.DoesNotExist:
            return False


def iso(at: datetime) -> str:
    return at.isoformat()


@pytest.fixture
def sent(services: Any) -> Iterator[list[tuple[str, dict]]]:
    """Every DynamoDB call the shared client makes during the test: (operation, parameters)."""
    calls: list[tuple[str, dict]] = []

    def record(params: dict, model: Any = None, **_: Any) -> None:
        calls.append((model.name, params))

    events = TableItem._get_connection().connection.client.meta.events
    events.register("before-parameter-build.dynamodb.*", record, unique_id="inactivity-sent")
    yield calls
    events.unregister("before-parameter-build.dynamodb.*", unique_id="inactivity-sent")


# -- the ledger: a credit without activity marks an unmarked member, in the credit's one write -------------------
def test_a_credit_without_activity_marks_an_unmarked_member_now_and_leaves_an_activitys_mark_alone(services, sent):
    t = Tenant(services, IDLE_2, T0 - timedelta(days=1))
    m = t.member("m-1", T0)
    assert t.mark(m) is None  # enrolling credits nothing
    t.store.program()  # the program cached, as in a warm container
    sent.clear()

    t.staff.adjust(m, 50, "goodwill", "staff:test", T0 + timedelta(days=1))

    assert [op for op, _ in sent] == ["TransactWriteItems"]  # still one call, no read
    assert t.mark(m) == iso(T0 + timedelta(days=1))
    t.credits.record(m, REVIEW, "r-1", T0 + timedelta(days=2))  # an activity: the exact date
    t.staff.adjust(m, 10, "goodwill", "staff:test", T0 + timedelta(days=3))
    assert t.mark(m) == iso(datetime(2025, 3, 8, 9, tzinfo=timezone.utc))  # two months after the review, kept


def test_a_credit_without_activity_under_another_rule_marks_nobody(services):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    m = t.member("m-1", T0, points=50)
    assert t.mark(m) is None


# -- the job: the mark says when to look, the last activity says when the member is due ------------------------
def test_a_member_marked_sooner_than_due_is_moved_to_the_date_and_expires_then(services):
    t = Tenant(services, IDLE_2, T0 - timedelta(days=1))
    m = t.member("m-1", T0)
    t.credits.record(m, REVIEW, "r-1", T0)  # due on 6 March
    t.staff.adjust(m, 45, "goodwill", "staff:test", T0 + timedelta(days=1))
    MemberProfile(keys.member_pk(t.id, m), keys.PROFILE).update(  # a mark set sooner (e.g. by a credit)
        [MemberProfile.GSI2SK.set(f"{iso(T0 + timedelta(days=1))}#{m}")])

    early = t.jobs().expire_inactive(T0 + timedelta(days=2))

    assert (early.processed, early.skipped, early.points) == (0, 1, 0)
    assert t.mark(m) == iso(datetime(2025, 3, 6, 9, tzinfo=timezone.utc))
    assert t.announced(m, datetime(2025, 3, 1, tzinfo=timezone.utc)).at == datetime(2025, 3, 6, 9, tzinfo=timezone.utc)
    assert t.jobs().expire_inactive(datetime(2025, 3, 6, 8, tzinfo=timezone.utc)).seen == 0  # not yet
    due = t.jobs().expire_inactive(datetime(2025, 3, 6, 9, tzinfo=timezone.utc))
    assert (due.processed, due.points, due.members) == (1, 50, [m])
    assert t.mark(m) is None and t.expired(m) == 50
    assert_books_balance(t.id, m)


def test_a_member_due_with_nothing_available_loses_the_mark_and_is_marked_again_by_the_next_credit(services):
    t = Tenant(services, IDLE_2, T0 - timedelta(days=1))
    m = t.member("m-1", T0)
    t.credits.record(m, REVIEW, "r-1", T0)  # 5 points, due on 6 March
    t.staff.adjust(m, -5, "correction", "staff:test", T0 + timedelta(days=1))
    later = datetime(2025, 3, 7, tzinfo=timezone.utc)

    report = t.jobs().expire_inactive(later)

    assert (report.processed, report.skipped, report.members) == (0, 1, [])
    assert t.mark(m) is None
    t.staff.adjust(m, 30, "goodwill", "staff:test", later + timedelta(days=1))  # long inactive: due at once
    assert t.announced(m, later + timedelta(days=1)).points == 30
    again = t.jobs().expire_inactive(later + timedelta(days=2))
    assert (again.processed, again.points) == (1, 30)
    assert_books_balance(t.id, m)


def test_under_another_rule_the_inactivity_job_expires_nobody_whatever_marks_remain(services):
    t = Tenant(services, IDLE_2, T0 - timedelta(days=1))
    m = t.member("m-1", T0)
    t.credits.record(m, REVIEW, "r-1", T0)  # marked for 6 March
    t.switch(replace(IDLE_2, expiry_mode=ExpiryMode.NEVER), T0 + timedelta(days=1))

    report = t.jobs().expire_inactive(T0 + timedelta(days=400))

    assert (report.processed, report.seen) == (0, 0) and "does not expire" in report.note
    assert int(t.profile(m).available) == 5


# -- the switch: a marking pass over the members list ----------------------------------------------------------
def test_after_the_switch_every_member_holding_points_is_marked_by_the_new_rule_and_expires_when_announced(
        services, sent):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    quiet = t.member("quiet", T0, points=100)  # last active when they joined
    busy = t.member("busy", T0, points=100)
    t.credits.record(busy, REVIEW, "r-1", SWITCH - timedelta(days=1))
    empty = t.member("empty", T0)  # nothing to lose: no mark
    t.switch(IDLE_2, SWITCH)
    assert t.owed() and t.mark(quiet) is None and t.mark(busy) is None
    # Announced at the last activity plus two months, though no activity came after the switch.
    assert t.announced(quiet, datetime(2025, 3, 1, tzinfo=timezone.utc)).at == T0 + timedelta(days=59)
    sent.clear()

    first = t.jobs(page_size=2).expire_inactive(SWITCH + timedelta(days=1))

    assert first.ok and first.complete and (first.listed, first.marked, first.processed) == (3, 2, 0), first
    member_pages = [p for op, p in sent if op == "Query" and p.get("IndexName") == "GSI1"]
    assert len(member_pages) == 2 and all(p["Limit"] == 2 for p in member_pages)
    assert not any(op == "Scan" for op, _ in sent)
    assert (t.mark(quiet), t.mark(busy), t.mark(empty)) == (
        iso(datetime(2025, 3, 6, 9, tzinfo=timezone.utc)), iso(datetime(2025, 3, 25, 9, tzinfo=timezone.utc)), None)
    assert not t.owed()  # done: the next runs only read the due index
    quiet_due = t.jobs().expire_inactive(datetime(2025, 3, 6, 9, tzinfo=timezone.utc))
    assert (quiet_due.listed, quiet_due.members, quiet_due.points) == (0, [quiet], 100)
    busy_due = t.jobs().expire_inactive(datetime(2025, 3, 25, 9, tzinfo=timezone.utc))
    assert (busy_due.members, busy_due.points) == ([busy], 105)
    for member_id in (quiet, busy, empty):
        assert_books_balance(t.id, member_id)


def test_members_inactive_for_longer_than_the_policy_at_the_switch_expire_at_the_first_run(services):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    m = t.member("m-1", T0, points=100)
    switch = T0 + timedelta(days=200)
    t.switch(IDLE_2, switch)
    assert t.announced(m, switch).at == datetime(2025, 3, 6, 9, tzinfo=timezone.utc)  # a date past

    report = t.jobs().expire_inactive(switch + timedelta(days=1))

    assert (report.marked, report.members, report.points) == (1, [m], 100)


def test_changing_the_months_marks_everyone_again(services):
    t = Tenant(services, IDLE_2, T0 - timedelta(days=1))
    m = t.member("m-1", T0)
    t.credits.record(m, REVIEW, "r-1", T0)  # due on 6 March under two months
    t.switch(replace(IDLE_2, expiry_months=1), SWITCH)

    report = t.jobs().expire_inactive(datetime(2025, 2, 10, tzinfo=timezone.utc))  # marked for 6 March before

    assert (report.marked, report.members, report.points) == (1, [m], 5)  # now due on 6 February


def test_the_marking_pass_waits_until_the_program_change_has_reached_every_container(services):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    m = t.member("m-1", T0, points=100)
    t.switch(IDLE_2, SWITCH)
    ttl = timedelta(seconds=t.store.cache.ttl)

    soon = t.jobs().expire_inactive(SWITCH + ttl - timedelta(seconds=1))
    assert (soon.listed, soon.marked) == (0, 0) and "waits" in soon.note and t.owed()
    late = t.jobs().expire_inactive(SWITCH + ttl)
    assert (late.listed, late.marked) == (1, 1) and not t.owed()
    assert t.mark(m) == iso(datetime(2025, 3, 6, 9, tzinfo=timezone.utc))


def test_the_marking_pass_stops_within_its_budget_and_the_next_run_continues_from_its_cursor(services):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    members = [t.member(f"m-{i:02d}", T0 + timedelta(minutes=i), points=10) for i in range(7)]
    t.switch(IDLE_2, SWITCH)

    first = t.jobs(budget=Budget(Countdown(3)), page_size=2).expire_inactive(SWITCH + timedelta(days=1))
    assert (first.marked, first.complete, first.note) == (3, False, "marking pass: budget spent")
    assert [t.mark(m) is not None for m in members] == [True] * 3 + [False] * 4 and t.owed()
    second = t.jobs(page_size=2).expire_inactive(SWITCH + timedelta(days=1))

    assert (second.listed, second.marked, second.complete) == (4, 4, True)  # the rest, not the first three again
    assert all(t.mark(m) is not None for m in members) and not t.owed()


def test_while_another_run_holds_the_lease_the_marking_pass_does_nothing(services):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    m = t.member("m-1", T0, points=10)
    t.switch(IDLE_2, SWITCH)
    other = Lease(t.id, "inactivity")
    assert other.acquire()
    try:
        blocked = t.jobs().expire_inactive(SWITCH + timedelta(days=1))
    finally:
        other.release()

    assert (blocked.listed, blocked.complete) == (0, False) and t.mark(m) is None and t.owed()


def test_a_member_the_marking_pass_fails_on_is_reported_the_others_are_marked_and_the_pass_walks_again(
        services):
    t = Tenant(services, EARNING, T0 - timedelta(days=1))
    members = [t.member(f"m-{i}", T0 + timedelta(minutes=i), points=10) for i in range(3)]
    t.switch(IDLE_2, SWITCH)
    broken = keys.member_pk(t.id, "m-1").encode()

    def throttle(request: Any, **_: Any) -> Any:
        if broken in (request.body or b""):
            return error_response(request, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        return None

    events = TableItem._get_connection().connection.client.meta.events
    events.register_first("before-send.dynamodb.UpdateItem", throttle, unique_id="inactivity-throttle")
    try:
        first = t.jobs().expire_inactive(SWITCH + timedelta(days=1))
    finally:
        events.unregister("before-send.dynamodb.UpdateItem", throttle, unique_id="inactivity-throttle")

    assert (first.marked, first.failed, [f.member_id for f in first.failures]) == (2, 1, ["m-1"])
    assert [t.mark(m) is not None for m in members] == [True, False, True]
    assert t.owed()  # the walk ended with a failure: it goes again
    again = t.jobs().expire_inactive(SWITCH + timedelta(days=2))
    assert (again.listed, again.marked, again.failed) == (3, 1, 0)
    assert all(t.mark(m) is not None for m in members) and not t.owed()
