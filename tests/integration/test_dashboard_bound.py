"""A member's dashboard costs a small constant whatever their history (docs/design.md, "Bounded dashboard").

Lots are expiry buckets, created or grown by the crediting transaction without a read; spent buckets fold
away when they expire; idempotency records and action counters sort outside the dashboard range; the
inactivity job removes any number of lots in bounded transactions with the books exact between them.
Everything runs against DynamoDB Local through the infra use cases, on clocks in the past so that no
other test's lots fall due in these runs.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest

from domain.members import Enrollment
from domain.points import lots as lot_rules
from domain.points.balance import EntryType
from domain.points.orders import Order, OrderLine
from domain.points.program import DEFAULT_PROGRAM, ActionRule, ExpiryMode, Period, Program
from domain.points.rewards import Reward, RewardKind
from infra import keys
from infra.items import MemberProfile, TableItem
from infra.members import Members
from infra.points.adjustments import ActionCredits, Adjustments
from infra.points.history import points_view
from infra.points.items import IdempotencyRecord, LedgerEntry, PointLot
from infra.points.jobs import INACTIVITY_CHUNK, PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.points.rewards import RewardDesk
from tests.api.points_support import assert_books_balance, put_legacy_lots
from tests.support import new_tenant

REVIEW = "review_written"
AFTER_EARNING = replace(DEFAULT_PROGRAM, expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12, expiring_soon_days=30,
                        actions=(ActionRule(REVIEW, 5, cap_per_period=3, period=Period.MONTH, cooldown_seconds=60),))
TOTE = Reward("tote", "Tote bag", RewardKind.FREE_PRODUCT, 100, product_sku="TOTE")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


def dashboard_bound(program: Program) -> int:
    """The profile, the buckets of the months the policy spans (the current month's and N more), one
    bucket whose month ended but that the daily expire job has not removed yet, and one undated bucket."""
    return 1 + (program.expiry_months + 1) + 1 + 1


# -- a member and their books ---------------------------------------------------------------------------------
class Member:
    def __init__(self, services: Any, program: Program, at: datetime, rewards: tuple[Reward, ...] = ()):
        self.tenant, self.id = new_tenant(), f"m-{uuid.uuid4().hex[:10]}"
        self.store = ProgramStore(self.tenant, services.programs)
        self.store.save_program(program, "test", at)
        for reward in rewards:
            self.store.save_reward(reward, "test", at)
        self.book = OrderBook(self.tenant, self.store)
        self.credits = ActionCredits(self.tenant, self.store, self.book)
        self.staff = Adjustments(self.tenant, self.store)
        self.desk = RewardDesk(self.tenant, self.store)
        self.jobs = PointsJobs(self.tenant, self.store)
        Members(self.tenant).enroll(self.id, Enrollment("Aiko", f"{self.id}@example.com", date(1990, 4, 1), True),
                                    at.isoformat(), int(at.timestamp()))
        self.pk = keys.member_pk(self.tenant, self.id)

    def order(self, at: datetime, number: int) -> int:
        order = Order(id=f"o-{number}", currency="USD", ordered_at=at, member_id=self.id, subtotal=Decimal(80),
                      total=Decimal(88), lines=(OrderLine("1", 1, Decimal(80), "TEE", category="apparel"),))
        return self.book.record(order, at).points

    def give(self, points: int, at: datetime) -> None:
        self.staff.adjust(self.id, points, "test", "staff:test", at)

    def nightly(self, at: datetime) -> None:
        for job in (self.jobs.release_due, self.jobs.expire_due, self.jobs.remind_expiring):
            report = job(at)
            assert report.ok and report.failures == [], report

    def dashboard(self) -> dict[str, Any]:
        """The dashboard Query as Members.dashboard sends it (the same key range, consistent), raw, with the
        capacity DynamoDB reports for it."""
        client = TableItem._get_connection().connection.client
        return client.query(TableName=TableItem.Meta.table_name, ConsistentRead=True, ReturnConsumedCapacity="TOTAL",
                            KeyConditionExpression="PK = :pk AND SK BETWEEN :from AND :to",
                            ExpressionAttributeValues={":pk": {"S": self.pk}, ":from": {"S": keys.DASHBOARD_FROM},
                                                       ":to": {"S": keys.DASHBOARD_TO}})

    def lots(self) -> dict[str, int]:
        return {i.SK: int(i.points) for i in TableItem.query(self.pk, TableItem.SK.startswith(keys.LOT_PREFIX),
                                                              consistent_read=True) if isinstance(i, PointLot)}

    def profile(self) -> MemberProfile:
        return MemberProfile.get(self.pk, keys.PROFILE, consistent_read=True)

    def expiry_entries(self) -> list[int]:
        return [int(e.points) for e in TableItem.query(self.pk, TableItem.SK.startswith(keys.LEDGER_PREFIX),
                                                       consistent_read=True)
                if isinstance(e, LedgerEntry) and e.entry_type == EntryType.EXPIRY.value]


@pytest.fixture
def sent(services: Any) -> Iterator[list[tuple[str, dict]]]:
    """Every DynamoDB call the shared client makes during the test: (operation, parameters)."""
    calls: list[tuple[str, dict]] = []

    def record(params: dict, model: Any = None, **_: Any) -> None:
        calls.append((model.name, params))

    events = TableItem._get_connection().connection.client.meta.events  # the client the models use now
    events.register("before-parameter-build.dynamodb.*", record, unique_id="dashboard-bound-sent")
    yield calls
    events.unregister("before-parameter-build.dynamodb.*", unique_id="dashboard-bound-sent")


# -- the bound ----------------------------------------------------------------------------------------------------
@pytest.mark.slow  # still part of the default run: nothing deselects `slow`
def test_a_member_with_1000_orders_over_three_years_has_a_dashboard_of_a_few_items_in_one_read_unit(services):
    start = utc(2022, 1, 3, 9)
    m = Member(services, AFTER_EARNING, start, rewards=(TOTE,))
    span = timedelta(days=3 * 365)
    bound = dashboard_bound(AFTER_EARNING)
    night = utc(2022, 2, 1, 3)
    largest = 0
    for k in range(1000):
        at = start + span * k / 1000
        while night <= at:  # the jobs, on the first night of each month (daily in production: fewer is enough)
            count = m.dashboard()["Count"]  # the most it holds: a month of credits, the last bucket not yet gone
            assert count <= bound, (night, count)
            largest = max(largest, count)
            m.nightly(night)
            # A keyed redemption a month (nothing removes idempotency records here: DynamoDB Local has no TTL).
            if night.year > 2022 or night.month > 2:  # once there are points to spend
                m.desk.redeem(m.id, TOTE.id, night, idempotency_key=f"redeem-{night:%Y-%m}")
            night = lot_rules.add_months(night, 1)
        assert m.order(at, k) == 80
        if k % 12 == 0:  # a review now and then, within the cap of 3 a month: counters per month, a cooldown
            m.credits.record(m.id, REVIEW, f"review-{k}", at)
    m.nightly(start + span + timedelta(days=31))  # the last orders' return windows close

    answer = m.dashboard()
    kinds = sorted({i["SK"]["S"].split("#")[0] for i in answer["Items"]})
    assert kinds == ["LOT", "PROFILE"], kinds  # no idempotency record, counter or anything else that piles up
    assert answer["Count"] <= bound and "LastEvaluatedKey" not in answer
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 1.0, answer["ConsumedCapacity"]
    assert largest <= bound
    lots = m.lots()
    assert len(lots) <= AFTER_EARNING.expiry_months + 2, lots  # a bucket per month of the policy, no more
    books = assert_books_balance(m.tenant, m.id)
    assert books["available"] > 0 and books["lifetime"] > 1000 * 80
    # The dashboard still answers `me`: balances and what expires next, from the same one Query.
    view = points_view(Members(m.tenant).dashboard(m.id), AFTER_EARNING, utc(2025, 2, 20))
    assert view is not None and view.available == books["available"]
    assert min(lots) == "LOT#2025-02" and books["lots_left"][0] > 0, (lots, books["lots_left"])
    assert view.expiring_soon == lot_rules.ExpiringSoon(books["lots_left"][0], utc(2025, 3, 1)), view


def test_earning_is_one_transaction_whether_it_starts_a_bucket_or_adds_to_one(services, sent):
    m = Member(services, AFTER_EARNING, utc(2025, 1, 2))
    m.store.program()  # the container's program cache is warm, as it is for every request but the first
    for at, expected in [(utc(2025, 1, 5), {"LOT#2026-01": 5}),
                         (utc(2025, 1, 31, 23, 59), {"LOT#2026-01": 10}),
                         (utc(2025, 2, 1), {"LOT#2026-01": 10, "LOT#2026-02": 5})]:
        sent.clear()
        m.credits.record(m.id, REVIEW, f"r-{at:%m%d%H}", at)
        assert [op for op, _ in sent] == ["TransactWriteItems"], sent  # no read, one call
        parts = sent[0][1]["TransactItems"]
        [lot] = [body for part in parts for op, body in part.items()
                 if body.get("Key", {}).get("SK", {}).get("S", "").startswith(keys.LOT_PREFIX)]
        assert "ADD" in lot["UpdateExpression"] and "ConditionExpression" not in lot  # created or grown blindly
        # Source, cap counter, cooldown, profile, entry, lot, event: as many items as when each credit had its own lot.
        assert len(parts) == 7
        assert m.lots() == expected
    sent.clear()
    m.give(40, utc(2025, 2, 3))  # a staff credit joins February's bucket too
    assert [op for op, _ in sent] == ["TransactWriteItems"]
    assert m.lots() == {"LOT#2026-01": 10, "LOT#2026-02": 45}
    assert_books_balance(m.tenant, m.id)


def test_without_a_date_every_point_shares_one_bucket(services):
    for mode in (ExpiryMode.AFTER_INACTIVITY, ExpiryMode.NEVER):
        m = Member(services, replace(AFTER_EARNING, expiry_mode=mode), utc(2024, 1, 2))
        for month in range(1, 13):
            m.give(10, utc(2024, month, 15))
        m.give(-25, utc(2024, 12, 20))
        assert m.lots() == {f"{keys.LOT_PREFIX}{lot_rules.NEVER_BUCKET}": 120}, mode
        assert assert_books_balance(m.tenant, m.id)["available"] == 95


# -- folding spent points away ---------------------------------------------------------------------------------
def test_an_expired_bucket_takes_its_spent_points_out_of_lots_consumed(services):
    m = Member(services, replace(AFTER_EARNING, expiry_months=1), utc(2025, 5, 1))
    m.give(50, utc(2025, 5, 20))  # May: expires when June ends
    m.give(30, utc(2025, 6, 3))  # June: expires when July ends
    m.give(-60, utc(2025, 6, 5))  # all of May's bucket and 10 of June's
    assert int(m.profile().lots_consumed) == 60

    m.jobs.expire_due(utc(2025, 7, 2))

    assert m.lots() == {"LOT#2025-07": 30} and int(m.profile().lots_consumed) == 10
    assert m.expiry_entries() == []  # nothing was left in May's bucket: nothing expired
    assert assert_books_balance(m.tenant, m.id)["available"] == 20
    m.jobs.expire_due(utc(2025, 8, 2))
    assert m.lots() == {} and int(m.profile().lots_consumed) == 0 and m.expiry_entries() == [-20]
    assert_books_balance(m.tenant, m.id)


def test_a_bucket_that_grows_after_its_reminder_is_announced_again_with_its_new_total(services):
    m = Member(services, replace(AFTER_EARNING, expiry_months=1, expiring_soon_days=40), utc(2025, 1, 2))
    m.give(10, utc(2025, 1, 5))  # January's points expire when February ends
    assert m.jobs.remind_expiring(utc(2025, 1, 25)).points == 10
    assert m.jobs.remind_expiring(utc(2025, 1, 26)).points == 0  # once
    m.give(15, utc(2025, 1, 28))
    assert m.jobs.remind_expiring(utc(2025, 1, 29)).points == 25
    events = [i.detail for i in TableItem.query(m.pk, TableItem.SK.startswith(keys.OUTBOX_PREFIX), consistent_read=True)
              if getattr(i, "event_type", None) == "points.expiring_soon"]
    assert [(e["points"], e["expiresOn"]) for e in events] == [(10, "2025-03-01T00:00:00+00:00"),
                                                               (25, "2025-03-01T00:00:00+00:00")]


def test_points_added_while_a_reminder_is_being_written_are_in_that_reminder(services):
    m = Member(services, replace(AFTER_EARNING, expiry_months=1, expiring_soon_days=40), utc(2025, 1, 2))
    m.give(10, utc(2025, 1, 5))
    landed: list[bool] = []

    def credit_first(params: dict, **_: Any) -> None:
        """Just before the reminder's transaction goes out, a credit adds to the same bucket."""
        if not landed and "reminded" in str(params.get("TransactItems")):
            landed.append(True)
            m.give(15, utc(2025, 1, 25, 10))

    events = TableItem._get_connection().connection.client.meta.events  # the client the models use now
    events.register("before-parameter-build.dynamodb.TransactWriteItems", credit_first, unique_id="credit-first")
    try:
        report = m.jobs.remind_expiring(utc(2025, 1, 25, 12))
    finally:
        events.unregister("before-parameter-build.dynamodb.TransactWriteItems", unique_id="credit-first")

    assert landed and report.points == 25, report  # the reminder read the bucket again and announced all of it
    assert [i.detail["points"] for i in TableItem.query(m.pk, TableItem.SK.startswith(keys.OUTBOX_PREFIX),
                                                        consistent_read=True)
            if getattr(i, "event_type", None) == "points.expiring_soon"] == [25]


# -- what piles up sorts outside the dashboard -------------------------------------------------------------------
def test_idempotency_records_and_action_counters_sort_outside_the_dashboard(services):
    at = utc(2025, 3, 4)
    m = Member(services, AFTER_EARNING, at, rewards=(TOTE,))
    m.give(500, at)
    codes = [m.desk.redeem(m.id, TOTE.id, at, idempotency_key=f"redeem-key-{i}").code for i in range(3)]
    m.credits.record(m.id, REVIEW, "r-1", at)

    assert sorted(i["SK"]["S"] for i in m.dashboard()["Items"]) == ["LOT#2026-03", "PROFILE"]
    client = TableItem._get_connection().connection.client
    partition = [i["SK"]["S"] for i in client.query(
        TableName=TableItem.Meta.table_name, KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": m.pk}}, ConsistentRead=True)["Items"]]
    assert [k for k in partition if "IDEM#" in k] == [f"~IDEM#redeem-key-{i}" for i in range(3)]
    assert sorted(k for k in partition if k.startswith(keys.ACTION_COUNT_PREFIX)) == \
        [f"ACT#{REVIEW}#2025-03", f"ACT#{REVIEW}#LAST"]
    assert m.desk.redeem(m.id, TOTE.id, at, idempotency_key="redeem-key-1").code == codes[1]  # replayed from ~IDEM#
    assert int(m.profile().available) == 500 - 300 + 5


def test_a_redemption_keyed_before_idempotency_records_moved_is_replayed_not_repeated(services):
    at = utc(2025, 3, 4)
    m = Member(services, AFTER_EARNING, at, rewards=(TOTE,))
    m.give(500, at)
    first = m.desk.redeem(m.id, TOTE.id, at, idempotency_key="old-redeem-key")
    # As the code before the move wrote it: the record under `IDEM#`, inside the dashboard range.
    record = IdempotencyRecord.get(m.pk, keys.idempotency_sk("old-redeem-key"), consistent_read=True)
    IdempotencyRecord(m.pk, f"{keys.LEGACY_IDEMPOTENCY_PREFIX}old-redeem-key", fingerprint=record.fingerprint,
                      result=record.result, created_at=record.created_at, expires_at=record.expires_at).save()
    record.delete()

    again = m.desk.redeem(m.id, TOTE.id, at + timedelta(minutes=5), idempotency_key="old-redeem-key")

    assert again.code == first.code and int(m.profile().available) == 400
    assert_books_balance(m.tenant, m.id)


# -- inactivity: any number of lots, in bounded transactions ------------------------------------------------------
class Killed(BaseException):
    """The process dying: not an Exception, so nothing in the job catches it."""


def die_after(transactions: int) -> Callable[..., None]:
    """An after-call hook: the process dies once DynamoDB has applied `transactions` transactions."""
    seen = [0]

    def hook(**_: Any) -> None:
        seen[0] += 1
        if seen[0] == transactions:
            raise Killed()
    return hook


def test_inactivity_expiry_of_a_member_with_hundreds_of_old_lots_goes_in_chunks_with_the_books_exact_between(
        services, sent):
    t0 = utc(2024, 2, 1)
    program = replace(AFTER_EARNING, expiry_mode=ExpiryMode.AFTER_INACTIVITY, expiry_months=2)
    m = Member(services, program, t0)
    m.credits.record(m.id, REVIEW, "r-1", t0)  # an activity: due for inactivity expiry two months on
    had = 5 + put_legacy_lots(m.tenant, m.id, 230, 3, at=t0)  # undated lots written one per credit
    had += put_legacy_lots(m.tenant, m.id, 40, 2, expires=utc(2025, 6, 1), at=t0)  # dated, from another policy
    m.give(-100, t0 + timedelta(days=1))
    had -= 100
    assert len(m.lots()) == 271
    assert_books_balance(m.tenant, m.id, buckets_only=False)
    idle = t0 + timedelta(days=70)

    events = TableItem._get_connection().connection.client.meta.events  # the client the models use now
    events.register("after-call.dynamodb.TransactWriteItems", die_after(4), unique_id="dashboard-bound-die")
    try:
        with pytest.raises(Killed):
            m.jobs.expire_inactive(idle)
    finally:
        events.unregister("after-call.dynamodb.TransactWriteItems", unique_id="dashboard-bound-die")

    # Four chunks of the oldest lots went, each with its entry: the books balance, and the member is still due.
    assert len(m.lots()) == 271 - 4 * INACTIVITY_CHUNK
    assert assert_books_balance(m.tenant, m.id, buckets_only=False)["available"] == had + sum(m.expiry_entries())
    assert m.profile().GSI2PK is not None

    report = PointsJobs(m.tenant, m.store).expire_inactive(idle)

    assert report.ok and report.processed == 1, report
    assert m.lots() == {} and m.profile().GSI2PK is None
    assert sum(m.expiry_entries()) == -had
    assert assert_books_balance(m.tenant, m.id)["available"] == 0
    writes = [len(p["TransactItems"]) for op, p in sent if op == "TransactWriteItems"]
    assert max(writes) <= INACTIVITY_CHUNK + 3 < 100, writes  # the lots, the profile, the entry, the event
