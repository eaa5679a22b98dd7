"""The VIP events' jobs on DynamoDB Local: no-shows after an event, and a cancelled event's refunds in
bounded, resumable chunks, each registration ended and refunded exactly once (also with two runs racing)."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

import pytest

from domain.errors import ErrorCode, UserError
from domain.points.balance import EntryType
from domain.points.program import Program
from domain.vip_events.checkin import code_hash
from domain.vip_events.model import RegistrationState, VipEvent
from domain.vip_events.settings import VipEventSettings
from infra import keys
from infra.items import MemberProfile
from infra.jobs_state import Budget
from infra.points.items import PointLot
from infra.vip_events.cancellation import EventCancellation
from infra.vip_events.catalog import list_sk
from infra.vip_events.checkin import CheckIns
from infra.vip_events.items import MemberVipStats, RegistrationItem, TicketLookup, VipEventItem, WaitlistEntry
from infra.vip_events.jobs import VipEventJobs
from infra.vip_events.registrations import Registrations
from tests.integration.test_vip_checkin import NOW, VipShop
from tests.support import all_at_once

AFTER = NOW + timedelta(hours=4)  # the events below end at NOW + 3 h
BLOCKING = Program(vip_events=VipEventSettings(forfeit_no_show_points=True, no_show_limit=2, no_show_window_days=180,
                                               no_show_block_days=90))
REFUNDING = Program(vip_events=VipEventSettings(forfeit_no_show_points=False))


def jobs(shop: VipShop, **kw) -> VipEventJobs:
    return VipEventJobs(shop.tenant, shop.programs, **kw)


def stats(shop: VipShop, member_id: str) -> MemberVipStats | None:
    try:
        return MemberVipStats.get(keys.member_pk(shop.tenant, member_id), keys.VIP_STATS_SK, consistent_read=True)
    except MemberVipStats.DoesNotExist:
        return None


def test_after_the_end_unchecked_confirmed_seats_become_no_shows_once_and_points_are_forfeited(services):
    shop = VipShop(services, BLOCKING)
    event = shop.event(points_cost=50)
    absent, present, waiting = shop.member(100), shop.member(100), shop.member()
    shop.register(event, absent, paid=50)
    present_code = shop.register(event, present, paid=50)
    shop.register(event, waiting, RegistrationState.WAITLISTED, seq=1)
    CheckIns(shop.tenant, shop.programs).check_in(present_code, "door-1", "st", "staff:st", NOW)
    early = jobs(shop).no_shows(event.ends_at - timedelta(minutes=1))
    assert (early.processed, early.seen) == (0, 0)  # not over yet: not due
    report = jobs(shop).no_shows(AFTER)
    assert (report.processed, report.skipped, report.failed, report.complete) == (1, 2, 0, True)
    states = {m: shop.registration(event, m).state for m in (absent, present, waiting)}
    assert states == {absent: "NO_SHOW", present: "ATTENDED", waiting: "WAITLISTED"}
    assert shop.available(absent) == 50 and shop.entries(absent, EntryType.REDEMPTION_CANCELLED) == []
    assert stats(shop, absent).no_shows == 1 and stats(shop, absent).blocked_until is None
    assert [o.detail["pointsForfeited"] for o in shop.outbox(absent, "vip_event.no_show")] == [50]
    assert shop.event_item(event).GSI2PK is None  # done: the event left the due index
    again = jobs(shop).no_shows(AFTER + timedelta(hours=1))
    assert (again.processed, again.seen) == (0, 0) and stats(shop, absent).no_shows == 1


def test_reaching_the_no_show_limit_within_the_window_blocks_registration_until_the_block_ends(services):
    shop = VipShop(services, BLOCKING)
    member = shop.member()
    first, second = shop.event(), shop.event(starts=NOW + timedelta(days=1))
    shop.register(first, member)
    shop.register(second, member)
    jobs(shop).no_shows(AFTER)
    assert stats(shop, member).blocked_until is None  # one no-show: below the limit of 2
    later = AFTER + timedelta(days=1)
    jobs(shop).no_shows(later)
    block = stats(shop, member)
    assert (block.no_shows, block.blocked_until) == (2, (later + timedelta(days=90)).isoformat())
    desk = Registrations(shop.tenant, shop.programs)
    third = shop.event(starts=later + timedelta(days=10))
    with pytest.raises(UserError) as refused:
        desk.register(member, third.event_id, later + timedelta(days=1))
    assert refused.value.code is ErrorCode.NO_SHOW_LIMIT
    assert desk.register(member, shop.event(starts=later + timedelta(days=95)).event_id,
                         later + timedelta(days=91)).state is RegistrationState.CONFIRMED


def test_no_shows_older_than_the_window_do_not_count_toward_the_limit(services):
    shop = VipShop(services, BLOCKING)
    member = shop.member()
    old, new = shop.event(), shop.event(starts=NOW + timedelta(days=200))
    shop.register(old, member)
    shop.register(new, member)
    jobs(shop).no_shows(AFTER)
    jobs(shop).no_shows(AFTER + timedelta(days=200))
    s = stats(shop, member)
    assert (s.no_shows, s.blocked_until, len(s.no_show_times)) == (2, None, 1)


def test_when_the_program_refunds_no_shows_the_cost_comes_back_exactly_once_even_when_two_runs_race(services):
    shop = VipShop(services, REFUNDING)
    event = shop.event(points_cost=30)
    members = [shop.member(30) for _ in range(6)]
    for m in members:
        shop.register(event, m, paid=30)
    reports = all_at_once([lambda: jobs(shop, lease=False).no_shows(AFTER)] * 2)
    assert sum(r.processed for r in reports) == 6 and sum(r.failed for r in reports) == 0
    for m in members:
        assert shop.registration(event, m).state == "NO_SHOW"
        assert shop.available(m) == 30 and len(shop.entries(m, EntryType.REDEMPTION_CANCELLED)) == 1
        assert stats(shop, m).no_shows == 1


def test_the_no_show_walk_stops_at_its_budget_and_the_next_run_resumes_from_its_cursor(services):
    shop = VipShop(services, BLOCKING)
    event = shop.event()
    members = [shop.member() for _ in range(7)]
    for m in members:
        shop.register(event, m)
    asked = [0]

    def left() -> float:  # asked once before each registration: four of them, then spent
        asked[0] += 1
        return 5 - asked[0]

    first = jobs(shop, page_size=3, budget=Budget(left)).no_shows(AFTER)
    assert (first.processed, first.complete, first.note) == (4, False, "budget spent")
    assert shop.event_item(event).GSI2PK is not None  # not done: still due
    rest = jobs(shop, page_size=3).no_shows(AFTER)
    assert (rest.resumed, rest.processed, rest.complete) == (True, 3, True)
    assert all(shop.registration(event, m).state == "NO_SHOW" for m in members)
    assert sorted(stats(shop, m).no_shows for m in members) == [1] * 7


# -- cancelling an event ------------------------------------------------------------------------------

def crowd(shop: VipShop, event: VipEvent, confirmed: int, waitlisted: int, cost: int) -> list[str]:
    """Members with points who paid `cost` each for a confirmed seat, and a waitlist, written in batches
    (as registration leaves them: a ticket lookup per registration, the event's counters)."""
    pk = keys.vip_event_pk(shop.tenant, event.event_id)
    ids = [f"c-{i:04d}-{uuid.uuid4().hex[:4]}" for i in range(confirmed + waitlisted)]
    at = (NOW - timedelta(days=20)).isoformat()
    with MemberProfile.batch_write() as batch:
        for i, m in enumerate(ids):
            mpk = keys.member_pk(shop.tenant, m)
            paid = cost if i < confirmed else 0
            # 100 points earned, `paid` of them spent on the seat: sum(lots) - lotsConsumed == available
            batch.save(MemberProfile(mpk, keys.PROFILE, member_id=m, name="M", email=f"{m}@example.com",
                                     referral_code=f"R{i:05d}{uuid.uuid4().hex[:3]}", joined_at=at, updated_at=at,
                                     available=100 - paid, lifetime=100, lots_consumed=paid))
            batch.save(PointLot(mpk, keys.lot_sk("NEVER"), points=100))
            state = RegistrationState.CONFIRMED if i < confirmed else RegistrationState.WAITLISTED
            code = secrets.token_urlsafe(18)
            seq = i - confirmed + 1 if state is RegistrationState.WAITLISTED else None
            batch.save(RegistrationItem(pk, keys.registration_sk(m), event_id=event.event_id, member_id=m,
                                        state=state.value, seq=seq, points_paid=paid, policy=event.cancellation.to_dict(),
                                        code=code, registered_at=at, GSI1PK=keys.member_tickets_pk(shop.tenant, m),
                                        GSI1SK=list_sk(event)))
            batch.save(TicketLookup(keys.ticket_pk(shop.tenant, code_hash(code)), keys.TICKET_SK,
                                    event_id=event.event_id, member_id=m))
            if seq is not None:
                batch.save(WaitlistEntry(pk, keys.waitlist_sk(seq), member_id=m, joined_at=at))
    E = VipEventItem
    E(pk, keys.VIP_EVENT_SK).update([E.confirmed.set(confirmed), E.taken.set(confirmed), E.waitlisted.set(waitlisted),
                                     E.wait_seq.set(waitlisted)])
    return ids


def test_cancelling_an_event_of_250_registrations_refunds_each_exactly_once_over_several_bounded_runs(services):
    shop = VipShop(services)
    event = shop.event(points_cost=40, capacity=220, starts=NOW + timedelta(days=3))
    ids = crowd(shop, event, confirmed=220, waitlisted=30, cost=40)
    guest = shop.member(40)
    guest_code = shop.register(event, guest, paid=40)  # checked in early: keeps nothing back
    RegistrationItem(keys.vip_event_pk(shop.tenant, event.event_id), keys.registration_sk(guest)).update(
        [RegistrationItem.state.set("ATTENDED")])
    desk = EventCancellation(shop.tenant, shop.programs)
    cancelled_at = NOW + timedelta(hours=1)
    desk.cancel(event.event_id, "The venue flooded", "staff:ops", cancelled_at)
    first = jobs(shop, chunk=40).refund_chunk(event.event_id, cancelled_at)  # what the mutation does
    assert (first.seen, first.processed, first.complete) == (40, 40, False)
    item = shop.event_item(event)
    assert (item.status, item.refunds_pending, item.registrations_ended) == ("CANCELLED", True, 40)
    with pytest.raises(UserError) as late:
        Registrations(shop.tenant, shop.programs).register(shop.member(), event.event_id, cancelled_at)
    assert late.value.code is ErrorCode.EVENT_CANCELLED
    runs = [first]
    while not runs[-1].complete:
        runs.append(jobs(shop, chunk=40).cancellations(cancelled_at + timedelta(minutes=5 * len(runs))))
        assert len(runs) < 12 and runs[-1].failed == 0
        assert runs[-1].seen <= 40  # bounded per invocation
    assert len(runs) == 7 and all(r.resumed for r in runs[1:])  # 251 registrations, 40 a run
    assert sum(r.processed for r in runs) == 250 and sum(r.points for r in runs) == 220 * 40
    item = shop.event_item(event)
    assert (item.refunds_pending, item.registrations_ended, item.points_refunded, item.GSI2PK) == (
        False, 250, 220 * 40, None)
    assert (int(item.taken), int(item.confirmed), int(item.waitlisted)) == (1, 1, 0)  # the attended seat
    for m in ids:
        reg = shop.registration(event, m)
        assert (reg.state, reg.reason) == ("CANCELLED", "EVENT_CANCELLED")
    sample = ids[:3] + ids[215:225] + ids[-3:]
    for m in sample:
        paid = 40 if ids.index(m) < 220 else 0
        assert shop.available(m) == 100
        assert [e.points for e in shop.entries(m, EntryType.REDEMPTION_CANCELLED)] == ([40] if paid else [])
        notices = shop.outbox(m, "vip_event.cancelled")
        assert [(n.detail["pointsRefunded"], n.detail["reason"]) for n in notices] == [(paid, "The venue flooded")]
    assert shop.available(guest) == 0 and shop.registration(event, guest).state == "ATTENDED"
    assert [i for i in WaitlistEntry.query(keys.vip_event_pk(shop.tenant, event.event_id),
                                           WaitlistEntry.SK.startswith(keys.WAITLIST_PREFIX))] == []
    desk_at_door = CheckIns(shop.tenant, shop.programs)
    for m in sample:  # the tickets went with the registrations
        assert desk_at_door.lookup(shop.registration(event, m).code) is None
    assert desk_at_door.lookup(guest_code) is not None  # attended: kept, as what it was
    after = jobs(shop, chunk=40).cancellations(cancelled_at + timedelta(hours=2))
    assert (after.seen, after.processed) == (0, 0)
    with pytest.raises(UserError) as twice:
        desk.cancel(event.event_id, "again", "staff:ops", cancelled_at + timedelta(hours=2))
    assert twice.value.code is ErrorCode.ALREADY_CANCELLED


def test_two_refund_runs_racing_on_one_cancelled_event_refund_each_registration_once(services):
    shop = VipShop(services)
    event = shop.event(points_cost=25, capacity=60, starts=NOW + timedelta(days=3))
    ids = crowd(shop, event, confirmed=60, waitlisted=0, cost=25)
    EventCancellation(shop.tenant, shop.programs).cancel(event.event_id, "Weather", "staff:ops", NOW)
    reports = all_at_once([lambda: jobs(shop, lease=False, chunk=100).cancellations(NOW)] * 2)
    assert sum(r.failed for r in reports) == 0 and sum(r.processed for r in reports) == 60
    assert all(shop.available(m) == 100 for m in ids)
    assert all(len(shop.entries(m, EntryType.REDEMPTION_CANCELLED)) == 1 for m in ids[:10])
    assert shop.event_item(event).points_refunded == 60 * 25


def test_a_cancellation_needs_a_reason_and_an_event(services):
    shop = VipShop(services)
    desk = EventCancellation(shop.tenant, shop.programs)
    with pytest.raises(UserError) as missing:
        desk.cancel("ev-none", "No reason needed?", "staff:ops", NOW)
    with pytest.raises(UserError) as blank:
        desk.cancel(shop.event().event_id, "  ", "staff:ops", NOW)
    assert (missing.value.code, blank.value.code) == (ErrorCode.NOT_FOUND, ErrorCode.REQUIRED)


def test_the_no_show_job_passes_over_a_cancelled_event(services):
    shop = VipShop(services, BLOCKING)
    event = shop.event()
    member = shop.member()
    shop.register(event, member)
    EventCancellation(shop.tenant, shop.programs).cancel(event.event_id, "Weather", "staff:ops", NOW - timedelta(days=1))
    report = jobs(shop).no_shows(AFTER)
    assert report.processed == 0 and stats(shop, member) is None
    assert shop.registration(event, member).state == "CONFIRMED"  # the refund walk ends it, not this job
    assert isinstance(datetime.fromisoformat(shop.event_item(event).cancelled_at), datetime)


def test_the_scheduled_handlers_run_the_three_vip_jobs_for_a_tenant(services):
    from api.jobs import JOBS, run
    shop = VipShop(services, BLOCKING)
    event = shop.event()
    member = shop.member()
    shop.register(event, member)
    reports = {r.job: r for name in ("vip-no-shows", "vip-cancellations", "vip-offers")
               for r in run(services.settings, name, AFTER, [shop.tenant])}
    assert set(reports) == {"vip-no-shows", "vip-cancellations", "vip-offers"} <= set(JOBS)
    assert all(r.ok and r.complete for r in reports.values()), reports
    assert reports["vip-no-shows"].processed == 1 and shop.registration(event, member).state == "NO_SHOW"
