"""Badges, challenges and counters on DynamoDB Local: events are real outbox items written by real credits,
handed to the progress listener as the stream processor hands them (`handle(event, env)`), from real threads."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.badges.criteria import Spec
from domain.badges.definitions import Badge
from domain.challenges.definitions import Challenge
from domain.members import Enrollment
from domain.points.program import ActionRule, Program
from infra import keys
from infra.badges.items import BACKFILL_JOB, PASS_SK, BadgeAward, BadgePass
from infra.badges.jobs import BadgeJobs
from infra.badges.store import BadgeStore
from infra.challenges.store import ChallengeStore
from infra.events.items import EffectMark
from infra.events.model import Env, Event
from infra.items import OutboxEvent, TableItem, read_partition
from infra.members import Members
from infra.points.adjustments import ActionCredits
from infra.points.items import LedgerEntry, SourceMark
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.progress.items import ChallengeProgress, ProgressCounters
from infra.progress.listener import LISTENER
from tests.support import new_tenant, raised_at_once

PROGRAM = Program(actions=(ActionRule("unboxing_post", 10), ActionRule("review_written", 5)), timezone="Asia/Tokyo")


class Shop:
    def __init__(self, services):
        self.tenant = new_tenant()
        self.programs = ProgramStore(self.tenant, services.programs)
        self.programs.save_program(PROGRAM, "test", datetime.now(timezone.utc))
        self.credits = ActionCredits(self.tenant, self.programs, OrderBook(self.tenant, self.programs))
        self.badges = BadgeStore(self.tenant, self.programs)
        self.challenges = ChallengeStore(self.tenant, self.programs)

    def member(self, member_id: str, at: datetime | None = None) -> str:
        at = at or datetime.now(timezone.utc)
        Members(self.tenant).enroll(member_id, Enrollment("M", f"{member_id}@example.com", None, False),
                                    at.isoformat(), int(at.timestamp()))
        return member_id

    def activity(self, member_id: str, action: str, ref: str, at: datetime) -> Event:
        """A real credit; returns the outbox event it wrote, as the stream processor would hand it on."""
        before = {e.event_id for e in self.events(member_id)}
        self.credits.record(member_id, action, ref, at)
        return next(e for e in self.events(member_id) if e.event_id not in before)

    def events(self, member_id: str, event_type: str | None = None) -> list[Event]:
        items = read_partition(keys.member_pk(self.tenant, member_id), TableItem.SK.startswith(keys.OUTBOX_PREFIX))
        return [Event(self.tenant, member_id, i.SK[len(keys.OUTBOX_PREFIX):], i.event_type,
                      datetime.fromisoformat(i.occurred_at), i.detail)
                for i in items if isinstance(i, OutboxEvent) and (event_type is None or i.event_type == event_type)]

    def env(self, now: datetime | None = None) -> Env:
        return Env(now=now or datetime.now(timezone.utc), programs=lambda t: ProgramStore(t, self.programs.cache))

    def items(self, member_id: str, kind: type) -> list:
        return [i for i in read_partition(keys.member_pk(self.tenant, member_id)) if isinstance(i, kind)]


@pytest.fixture
def shop(services) -> Shop:
    return Shop(services)


def bonus_entries(shop: Shop, member_id: str) -> list[LedgerEntry]:
    return [e for e in shop.items(member_id, LedgerEntry) if e.entry_type == "BONUS"]


def test_a_badge_is_awarded_once_under_20_concurrent_events_that_each_cross_and_under_replays(shop):
    shop.badges.save(Badge("unboxer", "Unboxer", Spec("CUSTOM_ACTIVITY", count=1, action="unboxing_post"),
                           bonus_points=100), "test", datetime.now(timezone.utc), existing=None)
    m = shop.member("m-conc")
    t0 = datetime.now(timezone.utc)
    events = [shop.activity(m, "unboxing_post", f"post-{i}", t0 + timedelta(seconds=i)) for i in range(20)]
    env = shop.env()
    assert raised_at_once([lambda e=e: LISTENER.handle(e, env) for e in events]) == []
    assert raised_at_once([lambda: LISTENER.handle(events[0], env) for _ in range(20)]) == []  # replays at once
    for e in events:
        LISTENER.handle(e, env)  # and one after the other
    assert [a.badge_id for a in shop.items(m, BadgeAward)] == ["unboxer"]
    assert [int(e.points) for e in bonus_entries(shop, m)] == [100]
    assert [s.cause for s in shop.items(m, SourceMark) if s.cause.startswith("badge:")] == ["badge:unboxer"]
    assert len(shop.events(m, "badge.awarded")) == 1
    counters = shop.items(m, ProgressCounters)[0].counters
    assert counters["tracks"]["activity:unboxing_post"]["v"] == "20"  # each event counted once
    assert len([x for x in shop.items(m, EffectMark)]) == 20


def test_a_challenge_completes_once_under_20_concurrent_events_and_replays_and_counts_only_its_window(shop):
    now = datetime.now(timezone.utc)
    shop.badges.save(Badge("november-star", "November star", None), "test", now, existing=None)
    shop.challenges.save(Challenge("two-posts", "Two unboxing posts", Spec("CUSTOM_ACTIVITY", count=2,
                                                                            action="unboxing_post"),
                                   starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1),
                                   reward_points=50, reward_badge="november-star"), "test", now, existing=None)
    m = shop.member("m-ch")
    early = shop.activity(m, "unboxing_post", "old", now - timedelta(days=3))  # before the window: not counted
    LISTENER.handle(early, shop.env())
    assert shop.items(m, ChallengeProgress) == []
    events = [shop.activity(m, "unboxing_post", f"p{i}", now + timedelta(seconds=i)) for i in range(20)]
    env = shop.env()
    assert raised_at_once([lambda e=e: LISTENER.handle(e, env) for e in events]) == []
    assert raised_at_once([lambda: LISTENER.handle(events[5], env) for _ in range(20)]) == []
    [progress] = shop.items(m, ChallengeProgress)
    assert progress.completed_at is not None and progress.expires_at == int((now + timedelta(days=31)).timestamp())
    assert [int(e.points) for e in bonus_entries(shop, m)] == [50]
    assert len(shop.events(m, "challenge.completed")) == 1
    assert [a.badge_id for a in shop.items(m, BadgeAward)] == ["november-star"]


def test_an_opt_in_challenge_counts_only_events_after_joining(shop):
    now = datetime.now(timezone.utc)
    ch = shop.challenges.save(Challenge("reviews", "Two reviews", Spec("CUSTOM_ACTIVITY", count=2,
                                                                       action="review_written"),
                                        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1),
                                        opt_in=True, reward_points=20), "test", now, existing=None)
    m = shop.member("m-opt")
    LISTENER.handle(shop.activity(m, "review_written", "r0", now), shop.env())
    assert shop.items(m, ChallengeProgress) == []  # not joined: nothing counted
    joined = now + timedelta(seconds=1)
    shop.challenges.join(m, ch, joined)
    LISTENER.handle(shop.activity(m, "review_written", "r1", joined + timedelta(seconds=1)), shop.env())
    [p] = shop.items(m, ChallengeProgress)
    assert p.completed_at is None and p.counters["tracks"]["activity:review_written"]["v"] == "1"
    LISTENER.handle(shop.activity(m, "review_written", "r2", joined + timedelta(seconds=2)), shop.env())
    assert shop.items(m, ChallengeProgress)[0].completed_at is not None
    assert [int(e.points) for e in bonus_entries(shop, m)] == [20]


def test_a_badge_defined_after_members_qualify_is_backfilled_once_dated_when_each_qualified(shop):
    t0 = datetime(2026, 1, 5, 3, tzinfo=timezone.utc)
    early, late, never = shop.member("m-early", t0), shop.member("m-late", t0), shop.member("m-never", t0)
    crossed = {}
    for member, start in ((early, t0), (late, t0 + timedelta(days=20))):
        for i in range(3):
            at = start + timedelta(days=i)
            LISTENER.handle(shop.activity(member, "unboxing_post", f"{member}-{i}", at), shop.env(at))
        crossed[member] = start + timedelta(days=2)
    LISTENER.handle(shop.activity(never, "unboxing_post", "n-0", t0), shop.env(t0))
    saved_at = t0 + timedelta(days=60)
    for badge_id, count in (("three-posts", 3), ("two-posts", 2)):
        shop.badges.save(Badge(badge_id, f"{count} posts", Spec("CUSTOM_ACTIVITY", count=count, action="unboxing_post"),
                               bonus_points=30), "test", saved_at, existing=None)
    jobs = BadgeJobs(shop.tenant, shop.programs, page_size=2)
    waiting = jobs.backfill(saved_at)  # the program cache has not expired everywhere yet
    assert waiting.processed == 0 and "waits" in (waiting.note or "")
    run_at = saved_at + timedelta(minutes=5)
    report = jobs.backfill(run_at)
    assert report.ok and report.complete and report.processed == 2 and report.skipped == 1, report
    for member in (early, late):
        awards = {a.badge_id: a for a in shop.items(member, BadgeAward)}
        assert set(awards) == {"three-posts", "two-posts"}
        assert datetime.fromisoformat(awards["three-posts"].earned_at) == crossed[member]
        assert datetime.fromisoformat(awards["two-posts"].earned_at) == crossed[member] - timedelta(days=1)
        assert [int(e.points) for e in bonus_entries(shop, member)] == [60]  # one credit for both, once
        [summary] = shop.events(member, "badge.backfilled")  # one notification, not one per badge
        assert {b["badgeId"] for b in summary.detail["badges"]} == {"three-posts", "two-posts"}
        assert shop.events(member, "badge.awarded") == []
    assert shop.items(never, BadgeAward) == []
    with pytest.raises(BadgePass.DoesNotExist):
        BadgePass.get(keys.job_pk(shop.tenant, BACKFILL_JOB), PASS_SK)
    again = jobs.backfill(run_at + timedelta(hours=1))
    assert again.processed == 0 and [int(e.points) for e in bonus_entries(shop, early)] == [60]


def test_the_listener_and_a_backfill_racing_on_one_member_award_once(shop):
    t0 = datetime.now(timezone.utc) - timedelta(days=1)
    m = shop.member("m-race", t0)
    LISTENER.handle(shop.activity(m, "unboxing_post", "a", t0), shop.env(t0))
    shop.badges.save(Badge("first-post", "First post", Spec("CUSTOM_ACTIVITY", count=1, action="unboxing_post"),
                           bonus_points=5), "test", t0, existing=None)
    event = shop.activity(m, "unboxing_post", "b", t0 + timedelta(hours=1))
    jobs = BadgeJobs(shop.tenant, shop.programs, lease=False)
    run_at = datetime.now(timezone.utc)
    assert raised_at_once([lambda: LISTENER.handle(event, shop.env()), lambda: jobs.backfill(run_at)]) == []
    assert [a.badge_id for a in shop.items(m, BadgeAward)] == ["first-post"]
    assert [int(e.points) for e in bonus_entries(shop, m)] == [5]
