"""Lifecycle against DynamoDB Local and its stream: a member is marked lapsed once (MemberLapsed) when the
program's days pass without qualifying activity, and new activity unmarks them once (MemberReturned);
the lapse job works 10,000 due members in bounded pages resumed across runs, never a Scan; a birthday
rewarded this year is not rewarded again when the birthday is re-entered, and is told once as
BirthdayReward."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from bench.common import DynamoCallCounter
from domain import members as member_rules
from domain.lifecycle.settings import LifecycleSettings
from domain.points.program import DEFAULT_PROGRAM, ActionRule, Period
from infra import keys
from infra.events.model import Event
from infra.items import OutboxEvent, TableItem, read_partition
from infra.jobs_state import Budget
from infra.lifecycle.jobs import backfill, lapse_members, reward_anniversaries
from infra.ids import new_ulid
from infra.lifecycle.listener import Lifecycle
from infra.lifecycle.standing import LAPSE_DUE, STANDING_SK, Standings, StandingItem
from infra.members import Members
from infra.points.adjustments import ActionCredits
from infra.points.jobs import PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from tests.support import new_tenant

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def program_store(services, **lifecycle) -> tuple[str, ProgramStore]:
    tenant = new_tenant()
    store = ProgramStore(tenant, services.programs)
    program = replace(DEFAULT_PROGRAM, lifecycle=LifecycleSettings(**lifecycle), actions=(
        ActionRule("review_written", 20), ActionRule("birthday", 200, cap_per_period=1, period=Period.YEAR)))
    store.save_program(program, "test", NOW, "lifecycle test")
    return tenant, store


def enroll(tenant: str, member_id: str, birthday: date | None = None, at: datetime = NOW) -> None:
    Members(tenant).enroll(member_id, member_rules.Enrollment("Aiko", f"{member_id}@example.com", birthday, False),
                           at.isoformat(), int(at.timestamp()))


def told(tenant: str, member_id: str, event_type: str) -> list[OutboxEvent]:
    return [i for i in read_partition(keys.member_pk(tenant, member_id), TableItem.SK.startswith(keys.OUTBOX_PREFIX))
            if isinstance(i, OutboxEvent) and i.event_type == event_type]


def test_a_member_lapses_once_after_the_programs_days_and_returns_once_with_new_activity(services, events) -> None:
    tenant, store = program_store(services, lapse_after_days=30)
    member = f"m-{uuid.uuid4().hex[:8]}"
    enroll(tenant, member)
    events.drain()
    standing = Standings(tenant).get(member)
    assert standing is not None and standing.standing == "ACTIVE"
    assert standing.GSI2PK == keys.due_pk(tenant, LAPSE_DUE) and standing.due_at == (NOW + timedelta(days=30)).isoformat()

    jobs = PointsJobs(tenant, store)
    assert lapse_members(jobs, NOW + timedelta(days=29)).processed == 0  # not due yet: nothing read as due
    first = lapse_members(jobs, NOW + timedelta(days=31))
    assert (first.processed, first.failed) == (1, 0)
    assert lapse_members(jobs, NOW + timedelta(days=32)).processed == 0  # marked once
    assert len(told(tenant, member, "member.lapsed")) == 1
    lapsed = Standings(tenant).lapsed(10, None)
    assert [m.member_id for _, m in lapsed.edges] == [member]
    assert MembersStill(tenant, member)  # never deleted for inactivity

    ActionCredits(tenant, store, OrderBook(tenant, store)).record(member, "review_written", "r-1",
                                                                 datetime.now(timezone.utc))
    events.drain()
    back = Standings(tenant).get(member)
    assert back is not None and back.standing == "ACTIVE" and back.GSI1PK is None
    assert Standings(tenant).lapsed(10, None).edges == []
    returned = told(tenant, member, "member.returned")
    assert len(returned) == 1
    # The same activity handed in again (a replayed batch) tells nothing twice.
    earned = next(i for i in read_partition(keys.member_pk(tenant, member), TableItem.SK.startswith(keys.OUTBOX_PREFIX))
                  if isinstance(i, OutboxEvent) and i.event_type == "points.earned")
    replay = Event(tenant, member, earned.SK.removeprefix(keys.OUTBOX_PREFIX), "points.earned",
                   datetime.fromisoformat(earned.occurred_at), dict(earned.detail))
    Lifecycle().handle(replay, events.env_factory())
    assert len(told(tenant, member, "member.returned")) == 1


def MembersStill(tenant: str, member: str) -> bool:  # noqa: N802 - reads as the sentence it asserts
    return Members(tenant).get(member) is not None


def test_a_longer_setting_moves_the_due_day_on_instead_of_lapsing(services, events) -> None:
    tenant, store = program_store(services, lapse_after_days=30)
    member = f"m-{uuid.uuid4().hex[:8]}"
    enroll(tenant, member)
    events.drain()
    store.save_program(replace(store.program(), lifecycle=LifecycleSettings(lapse_after_days=60)), "test", NOW, "longer")
    assert lapse_members(PointsJobs(tenant, store), NOW + timedelta(days=31)).skipped == 1
    assert Standings(tenant).get(member).due_at == (NOW + timedelta(days=60)).isoformat()
    assert told(tenant, member, "member.lapsed") == []


def test_ten_thousand_due_members_lapse_in_bounded_pages_resumed_across_runs_without_a_scan(services) -> None:
    tenant, store = program_store(services, lapse_after_days=30)
    last = NOW - timedelta(days=40)
    due = (last + timedelta(days=30)).isoformat()
    members = [f"m-{i:05d}" for i in range(10_000)]

    def seed(chunk: list[str]) -> None:
        with StandingItem.batch_write() as batch:
            for m in chunk:
                item = StandingItem(keys.member_pk(tenant, m), STANDING_SK, member_id=m, standing="ACTIVE",
                                    last_activity_at=last.isoformat(), due_at=due, version=1)
                item.GSI2PK, item.GSI2SK = keys.due_pk(tenant, LAPSE_DUE), f"{due}#{m}"
                batch.save(item)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(seed, [members[i:i + 500] for i in range(0, len(members), 500)]))

    counter = DynamoCallCounter(TableItem._get_connection().connection.client)
    runs, processed, pages = 0, 0, []
    while True:
        runs += 1
        report = lapse_members(PointsJobs(tenant, store, budget=Budget.seconds(8), page_size=200), NOW)
        processed += report.processed
        pages.append(report.pages)
        assert report.failed == 0
        if report.complete:
            break
        assert runs < 100
    calls = set(counter.calls)
    counter.close()
    assert processed == 10_000 and runs > 1, (processed, runs)
    assert "Scan" not in calls and "Query" in calls
    assert len(Standings(tenant).lapsed(100, None).edges) == 100


def test_a_birthday_re_entered_in_the_same_year_is_not_rewarded_twice_and_is_told_once(services, events) -> None:
    tenant, store = program_store(services)
    today = store.program().local_time(NOW).date()
    member = f"m-{uuid.uuid4().hex[:8]}"
    enroll(tenant, member, birthday=today.replace(year=1992))  # a leap year: any day has a 1992 date
    jobs = PointsJobs(tenant, store)
    assert jobs.birthdays(NOW).points == 200
    step = timedelta(days=1) if (today + timedelta(days=1)).year == today.year else timedelta(days=-1)
    Members(tenant).update_profile(member, member_rules.ProfileChange(birthday=(today + step).replace(year=1992)),
                                   NOW.isoformat())
    assert jobs.birthdays(NOW + step).points == 0  # the year's birthday was rewarded already
    assert jobs.birthdays(NOW).points == 0  # and the first day again: nothing
    events.drain()
    assert [e.detail["points"] for e in told(tenant, member, "birthday.rewarded")] == [200]


def test_anniversaries_are_rewarded_once_each_and_a_late_job_catches_up(services, events) -> None:
    tenant, store = program_store(services, anniversary_points=100)
    member = f"m-{uuid.uuid4().hex[:8]}"
    joined = NOW - timedelta(days=2 * 366 + 1)
    enroll(tenant, member, at=joined)
    events.drain()
    jobs = PointsJobs(tenant, store)
    first = reward_anniversaries(jobs, NOW)
    assert (first.processed, first.points, first.failed) == (1, 200, 0)  # years 1 and 2, caught up
    assert reward_anniversaries(jobs, NOW).processed == 0  # the next one is a year away
    assert reward_anniversaries(jobs, NOW + timedelta(days=1)).processed == 0
    rewarded = sorted(e.detail["count"] for e in told(tenant, member, "anniversary.rewarded"))
    assert rewarded == [1, 2]
    assert Members(tenant).get(member).points.available == 200
    nxt = next(i for i in read_partition(keys.member_pk(tenant, member)) if type(i).__name__ == "AnniversaryItem")
    assert int(nxt.years_done) == 2 and nxt.GSI2PK == keys.due_pk(tenant, "ANNIV")


def test_order_milestones_are_reached_once_each_even_when_events_come_again(services, events) -> None:
    tenant, store = program_store(services, milestone_points=50)
    member = f"m-{uuid.uuid4().hex[:8]}"
    enroll(tenant, member)
    env = events.env_factory()
    listener = Lifecycle()
    orders = [Event(tenant, member, new_ulid(), "points.earned", NOW, {"type": "EARN", "points": 10})
              for _ in range(10)]
    for e in orders:
        listener.handle(e, env)
    for e in (orders[0], orders[9]):  # handed in again
        listener.handle(e, env)
    reached = sorted(e.detail["count"] for e in told(tenant, member, "milestone.reached"))
    assert reached == [1, 10]
    assert Members(tenant).get(member).points.available == 100


def test_members_from_before_the_lifecycle_are_backfilled_once_without_past_anniversaries(services) -> None:
    tenant, store = program_store(services, lapse_after_days=30, anniversary_points=100)
    old = [f"m-old-{i}" for i in range(5)]
    for m in old:  # written without the stream processor: as if from before the lifecycle
        enroll(tenant, m, at=NOW - timedelta(days=400))
    jobs = PointsJobs(tenant, store, page_size=2)
    first = backfill(jobs, NOW)
    assert (first.processed, first.failed, first.complete) == (5, 0, True) and first.pages >= 3
    assert backfill(jobs, NOW).note == "done before"
    assert all(Standings(tenant).get(m) is not None for m in old)
    assert reward_anniversaries(jobs, NOW).processed == 0  # the first anniversary passed before: not paid now
    assert lapse_members(jobs, NOW).processed == 5  # 400 days without activity
    assert sum(len(told(tenant, m, "anniversary.rewarded")) for m in old) == 0


def test_activity_while_the_lapse_job_holds_an_old_read_keeps_the_member_active(services, events) -> None:
    tenant, store = program_store(services, lapse_after_days=30)
    member = f"m-{uuid.uuid4().hex[:8]}"
    enroll(tenant, member)
    events.drain()
    stale = Standings(tenant).get(member)  # what the job read from its page
    Standings(tenant).active(member, NOW + timedelta(days=20), 30, NOW + timedelta(days=20))
    assert Standings(tenant).lapse_if_due(stale, 30, NOW + timedelta(days=31)) is None
    assert Standings(tenant).get(member).standing == "ACTIVE"
    assert told(tenant, member, "member.lapsed") == []
