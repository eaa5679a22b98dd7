"""Scheduled jobs at a brand's scale, against DynamoDB Local: every member settles on its own (one that fails
is reported and stays due while the rest go on), a run stops inside its budget and the next continues where
it stopped, a run that dies mid-way is finished by the next, two runs at once change each member once, and
the due index is read in bounded pages.

"Doubles nothing" is checked on the books: each member's expiry entries add up to exactly what it had, each
order is released once, and `assert_books_balance` holds for every member.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest
from botocore.httpsession import URLLib3Session

import api.jobs
from domain.members import Enrollment
from domain.points.balance import Balance, EntryType, Movement
from domain.points.orders import Order, OrderLine
from domain.points.program import DEFAULT_PROGRAM, ExpiryMode, Program
from infra import keys
from infra.items import MemberProfile, TableItem
from infra.jobs_state import Budget, Lease
from infra.members import Members
from infra.points.items import LedgerEntry, OrderRecord, PointLot
from infra.points.jobs import PointsJobs
from infra.ids import new_ulid
from infra.points.ledger import NEVER, Change, MemberLedger
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction
from tests.api.points_support import assert_books_balance
from tests.faults import error_response
from tests.support import new_tenant

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
IDLE = T0 + timedelta(days=70)  # past the program's two months without activity
RELEASE = T0 + timedelta(days=40)  # past the 30-day return window
PROGRAM = replace(DEFAULT_PROGRAM, expiry_mode=ExpiryMode.AFTER_INACTIVITY, expiry_months=2)
POINTS_PER_LOT = 2


# -- seeding through the ledger's own builders ---------------------------------------------------------
@pytest.fixture
def tenant(services: Any) -> str:
    """A fresh tenant with an inactivity-expiry program, set the day before its members join (so the
    inactivity job's marking pass after the switch has nobody to walk; `services` binds the models to the
    session table)."""
    t = new_tenant()
    ProgramStore(t, services.programs).save_program(PROGRAM, "test", T0 - timedelta(days=1))
    return t


@pytest.fixture
def store(services: Any, tenant: str) -> ProgramStore:
    return ProgramStore(tenant, services.programs)


def enroll(tenant: str, member_id: str, at: datetime = T0) -> None:
    Members(tenant).enroll(member_id, Enrollment("Aiko", f"{member_id}@example.com", None, False),
                           at.isoformat(), int(at.timestamp()))


def member_with_lots(tenant: str, member_id: str, lots: int, at: datetime = T0, program: Program = PROGRAM) -> int:
    """An enrolled member last active at `at` holding `lots` lots of POINTS_PER_LOT points each. The balance
    and its entry come from MemberLedger; the lots are written directly in the shape lots had before they
    were bucketed (`LOT#<expiry>#<ulid>`, one per credit), which is how a member comes to hold hundreds.
    Returns the points held."""
    enroll(tenant, member_id, at)
    points = lots * POINTS_PER_LOT
    tx = Transaction()
    MemberLedger(tenant, member_id, at, program).add(
        tx, Change(Movement(available=points, lifetime=points), EntryType.ADJUSTMENT, reason="seeded"),
        Balance())  # an activity: it makes the member due for inactivity expiry
    tx.commit()
    pk, ms = keys.member_pk(tenant, member_id), int(at.timestamp() * 1000)
    with PointLot.batch_write() as batch:
        for _ in range(lots):
            batch.save(PointLot(pk, f"{keys.LOT_PREFIX}{NEVER}#{new_ulid(ms)}", member_id=member_id,
                                points=POINTS_PER_LOT, earned_at=at.isoformat()))
    return points


def members_with_lots(tenant: str, count: int, lots: int = 2, prefix: str = "m") -> dict[str, int]:
    """`count` members, each active a minute after the last, so they fall due in this order."""
    return {f"{prefix}-{i:03d}": member_with_lots(tenant, f"{prefix}-{i:03d}", lots, T0 + timedelta(minutes=i))
            for i in range(count)}


def pending_orders(tenant: str, store: ProgramStore, count: int, each: int = 2) -> dict[str, int]:
    """`count` members with `each` pending orders, recorded by OrderBook. Returns member -> pending points.
    More than one order a member: the profile's `pending >= points` alone cannot then stop a double release."""
    book, held = OrderBook(tenant, store), {}
    for i in range(count):
        member_id = f"o-{i:03d}"
        enroll(tenant, member_id)
        held[member_id] = 0
        for k in range(each):
            at = T0 + timedelta(minutes=i, seconds=k)
            order = Order(id=str(uuid.uuid4().int)[:19], currency="USD", ordered_at=at,
                          lines=(OrderLine(id="1", quantity=1, price=Decimal(50 + i), sku="TEE"),),
                          subtotal=Decimal(50 + i), total=Decimal(55 + i), member_id=member_id)
            points = book.record(order, at).points
            assert points > 0
            held[member_id] += points
    return held


# -- what the books say ---------------------------------------------------------------------------------
def profile(tenant: str, member_id: str) -> MemberProfile:
    return MemberProfile.get(keys.member_pk(tenant, member_id), keys.PROFILE, consistent_read=True)


def entries(tenant: str, member_id: str, kind: EntryType) -> list[LedgerEntry]:
    return [e for e in TableItem.query(keys.member_pk(tenant, member_id), TableItem.SK.startswith(keys.LEDGER_PREFIX),
                                       consistent_read=True)
            if isinstance(e, LedgerEntry) and e.entry_type == kind.value]


def assert_expired_once(tenant: str, member_id: str, had: int) -> None:
    books = assert_books_balance(tenant, member_id)
    assert books["available"] == 0, (member_id, books)
    assert sum(int(e.points) for e in entries(tenant, member_id, EntryType.EXPIRY)) == -had, member_id
    assert profile(tenant, member_id).GSI2PK is None, f"{member_id} is still due"


def assert_untouched(tenant: str, member_id: str, had: int) -> None:
    assert int(profile(tenant, member_id).available) == had, member_id
    assert entries(tenant, member_id, EntryType.EXPIRY) == [], member_id


def assert_released_once(tenant: str, member_id: str, held: int) -> None:
    books = assert_books_balance(tenant, member_id)
    assert (books["available"], books["pending"]) == (held, 0), (member_id, books)
    orders = [i for i in TableItem.query(keys.member_pk(tenant, member_id), consistent_read=True)
              if isinstance(i, OrderRecord)]
    assert orders and all(o.status == "RELEASED" and o.GSI2PK is None for o in orders)
    assert sum(int(e.points) for e in entries(tenant, member_id, EntryType.EARN)) == held


def corrupt_a_lot(tenant: str, member_id: str) -> tuple[dict, Callable[[], None]]:
    """Store one of the member's lots with a points value that is not a number (as a bug or a bad manual edit
    would), so reading the member fails. Returns the raw lot and a function that puts it back."""
    client = TableItem._get_connection().connection.client
    lot = next(i for i in TableItem.query(keys.member_pk(tenant, member_id), TableItem.SK.startswith(keys.LOT_PREFIX),
                                          consistent_read=True) if isinstance(i, PointLot))
    good = client.get_item(TableName=TableItem.Meta.table_name, Key={"PK": {"S": lot.PK}, "SK": {"S": lot.SK}},
                           ConsistentRead=True)["Item"]
    client.put_item(TableName=TableItem.Meta.table_name, Item={**good, "points": {"S": "lots"}})
    return good, lambda: client.put_item(TableName=TableItem.Meta.table_name, Item=good)


# -- injected trouble -----------------------------------------------------------------------------------
def _client() -> Any:
    return TableItem._get_connection().connection.client


class Countdown:
    """A budget that lets `members` members start, then is spent."""

    def __init__(self, members: int):
        self.left = members

    def __call__(self) -> float:
        self.left -= 1
        return float(self.left + 1)


class Killed(BaseException):
    """The process dying: not an Exception, so nothing in the job catches it."""


@pytest.fixture
def hooks() -> Iterator[Callable[[str, Callable], None]]:
    """Register botocore before-send hooks on the shared client for the test only."""
    added: list[tuple[str, Callable, str]] = []

    def add(operation: str, hook: Callable) -> None:
        event, uid = f"before-send.dynamodb.{operation}", f"test-{id(hook)}"
        _client().meta.events.register_first(event, hook, unique_id=uid)
        added.append((event, hook, uid))

    yield add
    for event, hook, uid in added:
        _client().meta.events.unregister(event, hook, unique_id=uid)


def throttled_for(member_pk: str) -> Callable:
    """Throttle every transaction that touches this member: it fails with RetryLater, nobody else does."""
    def hook(request: Any, **_: Any) -> Any:
        if member_pk.encode() in (request.body or b""):
            return error_response(request, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        return None
    return hook


def kill_after_transactions(count: int) -> Callable:
    """The process dies right after DynamoDB applied its `count`-th transaction, before it heard so."""
    sent = [0]

    def hook(request: Any, **_: Any) -> Any:
        sent[0] += 1
        if sent[0] == count:
            URLLib3Session().send(request)
            raise Killed()
        return None
    return hook


# -- one run, whatever a member holds -------------------------------------------------------------------
def test_members_with_0_97_98_and_1000_lots_all_expire_in_one_inactivity_run(tenant, store):
    held = {f"lots-{n}": member_with_lots(tenant, f"lots-{n}", n) for n in (0, 97, 98, 1000)}

    report = PointsJobs(tenant, store).expire_inactive(IDLE)

    # The member with nothing to lose is passed over, and is no longer due.
    assert report.failures == [] and report.complete, report
    assert report.processed == 3 and sorted(report.members) == sorted(set(held) - {"lots-0"})
    assert (report.skipped, report.points) == (1, sum(held.values()))
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


# -- one member's failure is that member's alone ------------------------------------------------------
def test_a_failing_member_is_reported_the_others_expire_and_the_cli_exits_1_after_them(
        tenant, store, services, hooks, monkeypatch, capsys, caplog):
    held = members_with_lots(tenant, 6)
    broken, throttled = "m-001", "m-004"
    corrupt_a_lot(tenant, broken)  # reading the member raises: a bug's exception
    hooks("TransactWriteItems", throttled_for(keys.member_pk(tenant, throttled)))  # RetryLater
    monkeypatch.setattr(api.jobs, "_settings", lambda: services.settings)

    with caplog.at_level(logging.INFO, logger="kizuna.jobs"), pytest.raises(SystemExit) as exited:
        api.jobs.main(["inactivity", "--now", IDLE.isoformat(), "--tenant", tenant])

    assert exited.value.code == 1
    [report] = json.loads(capsys.readouterr().out)
    assert (report["processed"], report["failed"], report["complete"]) == (4, 2, True)
    assert {f["member_id"]: f["reason"].split(":")[0] for f in report["failures"]} == {
        broken: "AttributeDeserializationError", throttled: "RetryLater"}
    for member_id in set(held) - {broken, throttled}:
        assert_expired_once(tenant, member_id, held[member_id])  # done before the exit code was decided
    for member_id in (broken, throttled):
        assert_untouched(tenant, member_id, held[member_id])
        assert profile(tenant, member_id).GSI2PK is not None  # still due: a later run retries it
    failed_lines = [r for r in caplog.records if r.levelno == logging.ERROR and "failed on" in r.getMessage()]
    assert sorted(m for r in failed_lines for m in (broken, throttled) if m in r.getMessage()) == [broken, throttled]
    assert any("job summary" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_a_member_that_failed_is_retried_by_the_next_run(tenant, store, hooks):
    held = members_with_lots(tenant, 3)
    repair = corrupt_a_lot(tenant, "m-001")[1]
    first = PointsJobs(tenant, store).expire_inactive(IDLE)
    assert (first.processed, first.failed) == (2, 1)

    repair()
    again = PointsJobs(tenant, store).expire_inactive(IDLE)

    assert (again.processed, again.failed, again.members) == (1, 0, ["m-001"])
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


def test_the_lambda_handler_returns_the_failures_and_prints_a_metrics_line(tenant, store, services, monkeypatch,
                                                                           capsys):
    held = members_with_lots(tenant, 3)
    corrupt_a_lot(tenant, "m-002")
    monkeypatch.setattr(api.jobs, "_settings", lambda: services.settings)

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 600_000

    result = api.jobs.expire_inactive({"now": IDLE.isoformat(), "tenants": [tenant]}, Context())

    assert (result["ok"], result["complete"], result["failed"]) == (False, True, 1)
    assert [f["member_id"] for f in result["reports"][0]["failures"]] == ["m-002"]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(m["Job"], m["MembersFailed"], m["MembersProcessed"]) for m in metrics] == [("inactivity", 1, 2)]
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Kizuna/Jobs"
    for member_id in ("m-000", "m-001"):
        assert_expired_once(tenant, member_id, held[member_id])


def test_the_lambda_handler_starts_no_member_inside_the_reserve_before_its_timeout(tenant, store, services,
                                                                                   monkeypatch):
    held = members_with_lots(tenant, 2)
    monkeypatch.setattr(api.jobs, "_settings", lambda: services.settings)

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return int(api.jobs.RESERVE_SECONDS * 1000) - 1

    result = api.jobs.expire_inactive({"now": IDLE.isoformat(), "tenants": [tenant]}, Context())

    assert (result["complete"], result["reports"][0]["processed"]) == (False, 0)
    for member_id, had in held.items():
        assert_untouched(tenant, member_id, had)


# -- stopping, dying and starting again -------------------------------------------------------------------
def test_a_run_that_spends_its_budget_stops_and_the_next_run_finishes_the_rest(tenant, store):
    held = members_with_lots(tenant, 12)

    first = PointsJobs(tenant, store, budget=Budget(Countdown(5))).expire_inactive(IDLE)
    assert (first.processed, first.complete, first.note) == (5, False, "budget spent")
    assert first.members == [f"m-{i:03d}" for i in range(5)]  # oldest due first
    second = PointsJobs(tenant, store).expire_inactive(IDLE)

    assert (second.processed, second.complete, second.resumed) == (7, True, True)
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


def test_a_run_resumes_past_members_that_failed_instead_of_retrying_them_first(tenant, store):
    # Without the cursor each run would start at the three broken members, fail them again, and with a
    # budget of five reach only two healthy members a run.
    held = members_with_lots(tenant, 10)
    repairs = [corrupt_a_lot(tenant, f"m-{i:03d}")[1] for i in range(3)]

    first = PointsJobs(tenant, store, budget=Budget(Countdown(5))).expire_inactive(IDLE)
    second = PointsJobs(tenant, store, budget=Budget(Countdown(5))).expire_inactive(IDLE)

    assert (first.failed, first.processed, first.complete) == (3, 2, False)
    assert (second.failed, second.processed, second.complete, second.resumed) == (0, 5, True, True)
    for i in range(3, 10):
        assert_expired_once(tenant, f"m-{i:03d}", held[f"m-{i:03d}"])
    for repair in repairs:
        repair()
    third = PointsJobs(tenant, store).expire_inactive(IDLE)  # a new pass: the failed ones again
    assert (third.processed, third.failed, third.resumed) == (3, 0, False)
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


def test_a_run_killed_mid_way_is_finished_by_the_next_and_nothing_is_doubled(tenant, store, hooks, monkeypatch):
    held = members_with_lots(tenant, 10)
    hooks("TransactWriteItems", kill_after_transactions(4))  # dies as the 4th member's expiry lands
    monkeypatch.setattr(Lease, "release", lambda self: None)  # a dead process releases nothing

    with pytest.raises(Killed):
        PointsJobs(tenant, store, lease_seconds=3).expire_inactive(IDLE)
    monkeypatch.undo()
    # Four expired, the fourth unknown to the run that died; six untouched.
    assert sum(not entries(tenant, m, EntryType.EXPIRY) for m in held) == 6

    blocked = PointsJobs(tenant, store).expire_inactive(IDLE)
    assert (blocked.processed, blocked.complete) == (0, False) and "lease" in blocked.note
    time.sleep(3.1)  # the dead run's lease lapses
    again = PointsJobs(tenant, store).expire_inactive(IDLE)

    assert (again.processed, again.failed, again.complete) == (6, 0, True)
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


def test_a_run_killed_between_the_transactions_of_a_member_with_many_lots_is_finished_by_the_next(
        tenant, store, hooks):
    held = {"big": member_with_lots(tenant, "big", 300), **members_with_lots(tenant, 3)}
    hooks("TransactWriteItems", kill_after_transactions(3))  # a member's lots go a few dozen per transaction

    with pytest.raises(Killed):
        PointsJobs(tenant, store, lease=False).expire_inactive(IDLE)
    assert 0 < -sum(int(e.points) for e in entries(tenant, "big", EntryType.EXPIRY)) < held["big"]
    assert profile(tenant, "big").GSI2PK is not None  # part-way: still due
    again = PointsJobs(tenant, store).expire_inactive(IDLE)

    assert (again.failed, again.complete) == (0, True) and "big" in again.members
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


# -- two runs at once -------------------------------------------------------------------------------------
def race(*runs: Callable[[], Any]) -> list[Any]:
    barrier, results, errors = threading.Barrier(len(runs)), [None] * len(runs), []

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = runs[i]()
        except BaseException as e:  # surfaced below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(runs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_two_inactivity_runs_at_once_expire_each_member_once(tenant, store):
    held = members_with_lots(tenant, 30, lots=3)

    a, b = race(*[lambda: PointsJobs(tenant, store, lease=False).expire_inactive(IDLE)] * 2)

    assert a.failed == b.failed == 0 and a.processed + b.processed == 30, (a, b)
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


def test_two_release_runs_at_once_release_each_order_once(tenant, store):
    held = pending_orders(tenant, store, 20)

    a, b = race(*[lambda: PointsJobs(tenant, store, lease=False).release_due(RELEASE)] * 2)

    assert a.failed == b.failed == 0 and a.processed + b.processed == 40, (a, b)
    for member_id, points in held.items():
        assert_released_once(tenant, member_id, points)


def test_while_one_run_holds_the_lease_a_second_run_does_no_work(tenant, store):
    held = members_with_lots(tenant, 3)
    first = Lease(tenant, "inactivity")
    assert first.acquire()

    second = PointsJobs(tenant, store).expire_inactive(IDLE)
    assert (second.processed, second.seen, second.complete) == (0, 0, False)
    assert second.note.startswith("another run holds the lease until ")
    first.release()
    third = PointsJobs(tenant, store).expire_inactive(IDLE)

    assert third.processed == 3
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)


# -- pages --------------------------------------------------------------------------------------------------
def test_the_due_index_is_read_in_pages_of_the_page_size_never_scanned(tenant, store):
    held = members_with_lots(tenant, 50, lots=1)
    sent: list[tuple[str, dict]] = []

    def record(params: dict, model: Any = None, **_: Any) -> None:
        sent.append((model.name, dict(params)))

    events = _client().meta.events
    events.register("before-parameter-build.dynamodb.*", record, unique_id="test-pages")
    try:
        report = PointsJobs(tenant, store, page_size=7).expire_inactive(IDLE)
    finally:
        events.unregister("before-parameter-build.dynamodb.*", unique_id="test-pages")

    due_queries = [p for op, p in sent if op == "Query" and p.get("IndexName") == "GSI2"]
    assert (report.processed, report.pages) == (50, 8)  # 7 pages of 7 and one of 1
    assert len(due_queries) == 8 and all(p["Limit"] == 7 for p in due_queries)
    assert [p.get("ExclusiveStartKey") is None for p in due_queries] == [True] + [False] * 7
    assert not any(op == "Scan" for op, _ in sent)
    for member_id, had in held.items():
        assert_expired_once(tenant, member_id, had)
