"""VIP event registration on DynamoDB Local from real threads: seats never oversold, the waitlist served in
the order DynamoDB accepted it, points charged exactly for the seats taken, freed seats promoted once each."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import ErrorCode, UserError
from domain.members import Enrollment
from domain.points.program import Program
from domain.tiers.ladder import Benefit, BenefitType, Ladder, LadderSchedule, Tier
from domain.tiers.status import ManualMode
from domain.vip_events.checkin import code_hash
from domain.vip_events.model import OfferMode, VipEvent
from infra import keys
from infra.dynamo_errors import RetryLater
from infra.items import MemberProfile, OutboxEvent, TableItem, read_partition
from infra.members import Members
from infra.points.adjustments import Adjustments
from infra.points.items import LedgerEntry
from infra.points.jobs import PointsJobs
from infra.points.program_store import ProgramStore
from infra.tiers.staff import TierDesk
from infra.vip_events.catalog import EventCatalog
from infra.vip_events.items import RegistrationItem, TicketLookup, VipEventItem, WaitlistEntry
from infra.vip_events.offers import accept, pass_expired_offers
from infra.vip_events.registrations import Registrations
from tests.support import new_tenant, raised_at_once

NOW = datetime(2027, 5, 10, 12, tzinfo=timezone.utc)
LADDER = Ladder(tiers=(Tier("silver", "Silver", 1, Decimal(0)),
                       Tier("gold", "Gold", 2, Decimal(100000), (Benefit(BenefitType.EARLY_ACCESS, hours=48),))))


class World:
    def __init__(self, services):
        self.tenant = new_tenant()
        self.programs = ProgramStore(self.tenant, services.programs)
        self.programs.save_program(Program(timezone="Asia/Tokyo", tiers=LadderSchedule(current=LADDER)), "test", NOW)
        self.catalog = EventCatalog(self.tenant, self.programs)
        self.regs = Registrations(self.tenant, self.programs)
        self.adjustments = Adjustments(self.tenant, self.programs)
        self.tiers = TierDesk(self.tenant, self.programs)

    def member(self, points: int = 0, tier: str | None = None) -> str:
        member_id = f"m-{uuid.uuid4().hex[:10]}"
        Members(self.tenant).enroll(member_id, Enrollment("M", f"{member_id}@example.com", None, False),
                                    NOW.isoformat(), int(NOW.timestamp()))
        if points:
            self.adjustments.adjust(member_id, points, "test", "staff:test", NOW)
        if tier:
            self.set_tier(member_id, tier)
        return member_id

    def set_tier(self, member_id: str, tier: str) -> None:
        self.tiers.set_manual(member_id, tier, ManualMode.OVERRIDE, None, "test", "staff:test", NOW)

    def event(self, **kw) -> VipEvent:
        e = VipEvent(**{"event_id": f"e-{uuid.uuid4().hex[:8]}", "title": "Atelier night", "venue": "Ginza",
                        "starts_at": NOW + timedelta(days=10), "ends_at": NOW + timedelta(days=10, hours=3),
                        "capacity": 20, **kw})
        return self.catalog.save(e, "staff:test", NOW, existing=None)

    def item(self, event_id: str) -> VipEventItem:
        found = self.catalog.item(event_id)
        assert found is not None
        return found

    def registrations(self, event_id: str) -> dict[str, RegistrationItem]:
        return {i.member_id: i for i in read_partition(keys.vip_event_pk(self.tenant, event_id),
                                                       TableItem.SK.startswith(keys.REGISTRATION_PREFIX))
                if isinstance(i, RegistrationItem)}

    def waitlist(self, event_id: str) -> list[WaitlistEntry]:
        return [i for i in read_partition(keys.vip_event_pk(self.tenant, event_id),
                                          TableItem.SK.startswith(keys.WAITLIST_PREFIX)) if isinstance(i, WaitlistEntry)]

    def available(self, member_id: str) -> int:
        return int(MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE, consistent_read=True).available)

    def charges(self, member_id: str, event_id: str) -> int:
        entries = [i for i in read_partition(keys.member_pk(self.tenant, member_id),
                                             TableItem.SK.startswith(keys.LEDGER_PREFIX)) if isinstance(i, LedgerEntry)]
        return sum(int(e.points) for e in entries if e.source == f"vip:{event_id}")


@pytest.fixture
def world(services) -> World:
    return World(services)


def as_a_client_would(call):
    """Retry what the API answered RETRY_LATER or CONFLICT, as a client does; an earlier try that did land is
    recognised (ALREADY_REGISTERED)."""
    def run():
        for _ in range(20):
            try:
                return call()
            except RetryLater:
                continue
            except UserError as e:
                if e.code is ErrorCode.ALREADY_REGISTERED:
                    return None
                if e.code is ErrorCode.CONFLICT:
                    continue  # "try again", as the answer says
                raise
        raise AssertionError("kept answering RETRY_LATER")
    return run


def test_100_concurrent_registrations_for_20_seats_confirm_20_and_waitlist_80_in_acceptance_order(world):
    event = world.event(capacity=20, points_cost=10)
    with ThreadPoolExecutor(8) as pool:  # enrolling and crediting 100 members is most of the set-up's time
        members = list(pool.map(lambda _: world.member(points=100), range(100)))
    errors = raised_at_once([as_a_client_would(lambda m=m: world.regs.register(m, event.event_id, NOW)) for m in members])
    assert errors == []
    regs = world.registrations(event.event_id)
    assert set(regs) == set(members)  # one registration per member, none twice
    confirmed = [m for m, r in regs.items() if r.state == "CONFIRMED"]
    waiting = sorted((int(r.seq), m) for m, r in regs.items() if r.state == "WAITLISTED")
    assert len(confirmed) == 20 and len(waiting) == 80
    assert [s for s, _ in waiting] == list(range(1, 81))  # strictly increasing, no gaps
    entries = world.waitlist(event.event_id)
    assert [(int(e.SK.removeprefix(keys.WAITLIST_PREFIX)), e.member_id) for e in entries] == waiting
    item = world.item(event.event_id)
    assert (int(item.taken), int(item.confirmed), int(item.waitlisted), int(item.wait_seq)) == (20, 20, 80, 80)
    # Charged exactly for the confirmed, once each; the waitlist pays nothing yet.
    assert sum(world.charges(m, event.event_id) for m in members) == -200
    assert all(world.available(m) == 90 for m in confirmed)
    assert all(world.available(m) == 100 for _, m in waiting[:5])
    # Every registration has its own ticket, found by the code's hash only.
    codes = {r.code for r in regs.values()}
    assert len(codes) == 100 and all(len(c) == 24 for c in codes)
    some = regs[confirmed[0]]
    lookup = TicketLookup.get(keys.ticket_pk(world.tenant, code_hash(some.code)), keys.TICKET_SK, consistent_read=True)
    assert (lookup.event_id, lookup.member_id) == (event.event_id, confirmed[0])


def test_10_concurrent_cancellations_promote_each_freed_seat_once_in_waitlist_order_skipping_ineligible_heads(world):
    event = world.event(capacity=10, points_cost=10, min_tier_rank=2)
    seated = [world.member(points=50, tier="gold") for _ in range(10)]
    queue = [world.member(points=50, tier="gold") for _ in range(14)]
    for m in seated + queue:
        world.regs.register(m, event.event_id, NOW)
    dropped, broke = queue[1], queue[4]
    world.set_tier(dropped, "silver")  # tier dropped while waiting
    world.adjustments.adjust(broke, -45, "spent elsewhere", "staff:test", NOW)  # 5 left, the seat costs 10
    seen: list[tuple[int, int, int]] = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            i = VipEventItem.get(keys.vip_event_pk(world.tenant, event.event_id), keys.VIP_EVENT_SK,
                                 consistent_read=True)
            seen.append((int(i.confirmed), int(i.taken), int(i.capacity)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        errors = raised_at_once([as_a_client_would(lambda m=m: world.regs.cancel(m, event.event_id, NOW)) for m in seated])
    finally:
        stop.set()
        sampler.join(10)
    assert errors == []
    assert seen and all(c <= cap and t <= cap for c, t, cap in seen)
    regs = world.registrations(event.event_id)
    eligible = [m for m in queue if m not in (dropped, broke)]
    assert [m for m in queue if regs[m].state == "CONFIRMED"] == eligible[:10]  # the first 10 eligible, in order
    assert all(regs[m].state == "CANCELLED" for m in seated)
    assert (regs[dropped].state, regs[dropped].reason) == ("CANCELLED", "TIER_REQUIRED")
    assert (regs[broke].state, regs[broke].reason) == ("CANCELLED", "INSUFFICIENT_POINTS")
    assert [regs[m].state for m in eligible[10:]] == ["WAITLISTED", "WAITLISTED"]
    assert [e.member_id for e in world.waitlist(event.event_id)] == eligible[10:]
    item = world.item(event.event_id)
    assert (int(item.taken), int(item.confirmed), int(item.waitlisted)) == (10, 10, 2)
    # Each promoted member charged once; each canceller refunded in full (well before the deadline).
    assert all(world.charges(m, event.event_id) == -10 and world.available(m) == 40 for m in eligible[:10])
    assert all(world.charges(m, event.event_id) == 0 and world.available(m) == 50 for m in seated)
    assert world.charges(broke, event.event_id) == 0 and world.available(broke) == 5
    # Each member is told once what happened to them: promoted, skipped (with the reason), or cancelled.
    told = {m: [(o.event_type, dict(o.detail).get("reason")) for o in read_partition(keys.member_pk(world.tenant, m))
                if isinstance(o, OutboxEvent) and o.event_type.startswith("vip_event.")] for m in queue + seated[:1]}
    assert [told[m] for m in eligible[:10]] == [[("vip_event.waitlisted", None), ("vip_event.waitlist_promoted", None)]] * 10
    assert told[dropped] == [("vip_event.waitlisted", None), ("vip_event.waitlist_skipped", "TIER_REQUIRED")]
    assert told[broke][-1] == ("vip_event.waitlist_skipped", "INSUFFICIENT_POINTS")
    assert told[seated[0]] == [("vip_event.registered", None), ("vip_event.registration_cancelled", "CANCELLED_BY_MEMBER")]


def test_an_expired_offer_passes_to_the_next_member_exactly_once_however_often_the_job_runs(world):
    event = world.event(capacity=1, points_cost=10, offer_mode=OfferMode.HOLD, offer_hold_hours=24)
    first, second, third = (world.member(points=30) for _ in range(3))
    for m in (first, second, third):
        world.regs.register(m, event.event_id, NOW)
    world.regs.cancel(first, event.event_id, NOW)
    regs = world.registrations(event.event_id)
    assert regs[second].state == "OFFERED" and regs[third].state == "WAITLISTED"
    assert regs[second].offer_expires_at == (NOW + timedelta(hours=24)).isoformat()
    assert world.charges(second, event.event_id) == 0  # a hold is charged when accepted
    jobs = PointsJobs(world.tenant, world.programs, lease=False)
    early = pass_expired_offers(jobs, NOW + timedelta(hours=23))
    assert early.processed == 0 and world.registrations(event.event_id)[second].state == "OFFERED"
    later = NOW + timedelta(hours=25)
    reports = []
    errors = raised_at_once([lambda: reports.append(pass_expired_offers(jobs, later)) for _ in range(2)])
    reports.append(pass_expired_offers(jobs, later))
    assert errors == [] and sum(r.processed for r in reports) == 1 and all(r.failed == 0 for r in reports)
    regs = world.registrations(event.event_id)
    assert (regs[second].state, regs[second].reason) == ("CANCELLED", "OFFER_EXPIRED")
    assert regs[third].state == "OFFERED"
    item = world.item(event.event_id)
    assert (int(item.taken), int(item.offered), int(item.confirmed), int(item.waitlisted)) == (1, 1, 0, 0)
    with pytest.raises(UserError) as refused:
        accept(world.regs, second, event.event_id, later)
    assert refused.value.code is ErrorCode.NOT_REGISTERED
    done = accept(world.regs, third, event.event_id, later)
    assert done.state.value == "CONFIRMED" and world.charges(third, event.event_id) == -10
    item = world.item(event.event_id)
    assert (int(item.taken), int(item.offered), int(item.confirmed)) == (1, 0, 1)


def test_one_member_registering_from_5_threads_at_once_holds_one_registration_charged_once(world):
    event = world.event(capacity=3, points_cost=10)
    member = world.member(points=100)
    refused: list[UserError] = []

    def attempt():
        try:
            world.regs.register(member, event.event_id, NOW)
        except UserError as e:
            refused.append(e)

    assert raised_at_once([as_a_client_would(attempt) for _ in range(5)]) == []
    assert [e.code for e in refused] == [ErrorCode.ALREADY_REGISTERED] * 4
    assert list(world.registrations(event.event_id)) == [member]
    assert world.charges(member, event.event_id) == -10 and int(world.item(event.event_id).taken) == 1


def test_a_run_of_ineligible_heads_longer_than_one_read_is_skipped_until_an_eligible_member_gets_the_seat(world):
    event = world.event(capacity=1, points_cost=10)
    seated = world.member(points=10)
    queue = [world.member(points=10) for _ in range(7)]
    for m in [seated, *queue]:
        world.regs.register(m, event.event_id, NOW)
    for m in queue[:6]:
        world.adjustments.adjust(m, -5, "spent elsewhere", "staff:test", NOW)
    done = world.regs.cancel(seated, event.event_id, NOW)
    assert done.promoted == [queue[6]] and done.skipped == queue[:6]
    regs = world.registrations(event.event_id)
    assert [regs[m].reason for m in queue[:6]] == ["INSUFFICIENT_POINTS"] * 6 and regs[queue[6]].state == "CONFIRMED"
    item = world.item(event.event_id)
    assert (int(item.taken), int(item.confirmed), int(item.waitlisted)) == (1, 1, 0) and world.waitlist(event.event_id) == []


def test_while_anyone_waits_a_newcomer_waits_too_even_when_a_seat_is_free_for_a_moment(world):
    event = world.event(capacity=1)
    first, waiting, newcomer = (world.member() for _ in range(3))
    world.regs.register(first, event.event_id, NOW)
    world.regs.register(waiting, event.event_id, NOW)
    # A seat freed whose promotion has not landed yet (a long run of skipped heads is filled a seat per
    # transaction): the seat belongs to the line, not to whoever registers now.
    VipEventItem(keys.vip_event_pk(world.tenant, event.event_id), keys.VIP_EVENT_SK).update(
        [VipEventItem.taken.set(0), VipEventItem.confirmed.set(0)])
    late = world.regs.register(newcomer, event.event_id, NOW)
    assert (late.state.value, late.seq) == ("WAITLISTED", 2)
    assert [e.member_id for e in world.waitlist(event.event_id)] == [waiting, newcomer]
